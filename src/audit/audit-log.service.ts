import { Injectable } from '@nestjs/common';
import { Database } from '../database';
import type { SessionUser } from '../session/session-user';

export interface AuditEntry {
  actor?: Pick<SessionUser, 'id' | 'email'>;
  /** What was done, dotted: `queue.pause`, `job.retry`. */
  action: string;
  /** What it was done to: `payouts`, `payouts/42`. */
  target: string;
  detail: Record<string, unknown>;
  correlationId?: string;
}

/** Who did what to which queue or job, and when (audit_log, written after each mutation). */
@Injectable()
export class AuditLog {
  constructor(private readonly db: Database) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        actor_id: entry.actor?.id ?? null,
        actor_email: entry.actor?.email ?? null,
        action: entry.action,
        target: entry.target,
        detail: JSON.stringify(entry.detail),
        correlation_id: entry.correlationId ?? null,
      })
      .execute();
  }
}
