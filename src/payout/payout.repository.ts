import { Inject, Injectable, Logger } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { Database, DatabaseSchema, Payout, PayoutStatus } from '../database';

export interface Transition {
  /** The statuses the payout may be in for this change; otherwise nothing changes. */
  from: readonly PayoutStatus[];
  to: PayoutStatus;
  /** Counts an attempt and stamps processing_started_at the first time. */
  startAttempt?: boolean;
  /** Stamps finished_at. */
  finish?: boolean;
  providerReference?: string;
  /** Replaces last_error (null clears it); unchanged when undefined. */
  lastError?: string | null;
  /** Gives the amount back to the payee's balance (at most once per payout: unique index). */
  reverseDebit?: boolean;
  detail: string;
  correlationId: string | null;
}

export type TransitionResult =
  | { changed: true; payout: Payout; previous: PayoutStatus }
  | { changed: false; current?: Payout };

export interface PayoutWithPayee extends Payout {
  payee_name: string;
  payee_email: string;
}

export type LockResult<T> = { acquired: true; value: T } | { acquired: false };

/**
 * The payout state machine's storage: conditional transitions, each in one transaction with its
 * history row (payout_events) and, for failed/cancelled payouts, the compensating ledger entry.
 */
@Injectable()
export class PayoutRepository {
  private readonly logger = new Logger(PayoutRepository.name);

  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  findById(id: string): Promise<Payout | undefined> {
    return this.db.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findWithPayee(id: string): Promise<PayoutWithPayee | undefined> {
    return this.db
      .selectFrom('payouts')
      .innerJoin('payees', 'payees.id', 'payouts.payee_id')
      .selectAll('payouts')
      .select(['payees.name as payee_name', 'payees.email as payee_email'])
      .where('payouts.id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Runs fn while holding a PostgreSQL advisory lock on this payout, on one dedicated connection
   * (fn gets a repository bound to it). Only one worker at a time calls the provider for a
   * payout; the lock needs no expiry to configure: if the worker process dies, PostgreSQL ends
   * its session and the lock is gone, so the next attempt can take over at once.
   */
  async withProcessingLock<T>(
    payoutId: string,
    fn: (locked: PayoutRepository) => Promise<T>,
  ): Promise<LockResult<T>> {
    return this.db.connection().execute(async (connection) => {
      const key = sql`hashtextextended(${payoutId}, 0)`;
      const { rows } = await sql<{
        acquired: boolean;
      }>`SELECT pg_try_advisory_lock(${key}) AS acquired`.execute(connection);
      if (!rows[0]?.acquired) return { acquired: false };
      try {
        return { acquired: true, value: await fn(new PayoutRepository(connection)) };
      } finally {
        await sql`SELECT pg_advisory_unlock(${key})`.execute(connection).catch((error: Error) => {
          // A broken connection has lost its session, and with it the lock.
          this.logger.warn(`Releasing the lock of payout ${payoutId} failed: ${error.message}`);
        });
      }
    });
  }

  /**
   * Applies a transition if the payout is in one of `from`, with its history row and (for
   * failed/cancelled) its reversal, in ONE statement: the row is locked (FOR UPDATE in the first
   * CTE, which sees the latest committed status), so a concurrent transition waits and then
   * finds the new status. A reversal is at most once per payout (unique (payout_id, kind)).
   */
  async transition(id: string, change: Transition): Promise<TransitionResult> {
    const { rows } = await sql<Payout & { previous_status: PayoutStatus | null; changed: boolean }>`
      WITH current AS (
        SELECT id, status FROM payouts WHERE id = ${id} FOR UPDATE
      ), updated AS (
        UPDATE payouts p SET
          status = ${change.to},
          updated_at = now(),
          attempts = p.attempts + ${change.startAttempt ? 1 : 0},
          processing_started_at = CASE WHEN ${change.startAttempt ?? false}::boolean
                                       THEN coalesce(p.processing_started_at, now())
                                       ELSE p.processing_started_at END,
          finished_at = CASE WHEN ${change.finish ?? false}::boolean THEN now() ELSE p.finished_at END,
          provider_reference = coalesce(${change.providerReference ?? null}::text, p.provider_reference),
          last_error = CASE WHEN ${change.lastError !== undefined}::boolean
                            THEN ${change.lastError ?? null}::text ELSE p.last_error END
        FROM current c
        WHERE p.id = c.id AND c.status = ANY(${[...change.from]}::text[])
        RETURNING p.*, c.status AS previous_status
      ), event AS (
        INSERT INTO payout_events (payout_id, from_status, to_status, detail, correlation_id)
        SELECT id, previous_status, status, ${change.detail}, ${change.correlationId} FROM updated
      ), reversal AS (
        INSERT INTO ledger_entries (payee_id, kind, amount_minor, currency, payout_id)
        SELECT payee_id, 'reversal', amount_minor, currency, id FROM updated
        WHERE ${change.reverseDebit ?? false}::boolean
        ON CONFLICT (payout_id, kind) WHERE payout_id IS NOT NULL DO NOTHING
      )
      SELECT updated.*, true AS changed FROM updated
      UNION ALL
      SELECT payouts.*, NULL, false FROM payouts
      WHERE id = ${id} AND NOT EXISTS (SELECT 1 FROM updated)
    `.execute(this.db);
    const row = rows[0];
    if (!row) return { changed: false };
    const { previous_status: previous, changed, ...payout } = row;
    if (!changed || !previous) return { changed: false, current: payout };
    return { changed: true, payout, previous };
  }

  /**
   * A history row without a status change (a transient error, a re-enqueue by the reconciler).
   * It counts as activity: the reconciler waits PAYOUT_STUCK_AFTER again from here.
   */
  async note(
    id: string,
    status: PayoutStatus,
    detail: string,
    correlationId: string | null,
    lastError?: string,
  ): Promise<void> {
    await sql`
      WITH touched AS (
        UPDATE payouts SET
          updated_at = now(),
          last_error = CASE WHEN ${lastError !== undefined}::boolean
                            THEN ${lastError ?? null}::text ELSE last_error END
        WHERE id = ${id}
        RETURNING id
      )
      INSERT INTO payout_events (payout_id, from_status, to_status, detail, correlation_id)
      SELECT id, ${status}, ${status}, ${detail}, ${correlationId} FROM touched
    `.execute(this.db);
  }
}
