import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { Database, DatabaseSchema, Notification, NotificationStatus } from '../database';
import { composePayoutMessage } from './payout-message';

export type AttemptOutcome = 'sent' | 'logged' | 'transient_error' | 'permanent_error';

/** Notifications and their delivery attempts. */
@Injectable()
export class NotificationRepository {
  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  /**
   * The ID of this payout outcome's notification, created on first call. Its dedupe key
   * (`payout:<id>:<outcome>`) is unique, so a job run twice finds the same row. One statement
   * reads the payout and any existing notification together (a second one inserts, the first
   * time): undefined when the payout does not exist.
   */
  async ensureForPayout(payoutId: string, outcome: 'paid' | 'failed'): Promise<number | undefined> {
    const dedupeKey = `payout:${payoutId}:${outcome}`;
    const payout = await this.db
      .selectFrom('payouts')
      .innerJoin('payees', 'payees.id', 'payouts.payee_id')
      .leftJoin('notifications', (join) => join.on('notifications.dedupe_key', '=', dedupeKey))
      .select([
        'payouts.amount_minor',
        'payouts.currency',
        'payouts.provider_reference',
        'payouts.last_error',
        'payees.name',
        'payees.email',
        'notifications.id as notification_id',
      ])
      .where('payouts.id', '=', payoutId)
      .executeTakeFirst();
    if (!payout) return undefined;
    if (payout.notification_id !== null) return payout.notification_id;
    const { subject, body } = composePayoutMessage({
      outcome,
      payeeName: payout.name,
      amountMinor: Number(payout.amount_minor),
      currency: payout.currency,
      providerReference: payout.provider_reference,
      lastError: payout.last_error,
    });
    const created = await this.db
      .insertInto('notifications')
      .values({
        dedupe_key: dedupeKey,
        payout_id: payoutId,
        recipient: payout.email,
        subject,
        body,
        status: 'pending',
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (created) return created.id;
    // Nothing returned: a concurrent run created it first.
    const existing = await this.db
      .selectFrom('notifications')
      .select('id')
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirst();
    return existing?.id;
  }

  /**
   * Runs fn in a transaction holding this notification's row lock, so two runs of one job never
   * send together; a second one finds the row locked (SKIP LOCKED) and gets `acquired: false`.
   */
  async withLock<T>(
    id: number,
    fn: (notification: Notification, locked: NotificationRepository) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('notifications')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!row) return { acquired: false };
      return { acquired: true, value: await fn(row, new NotificationRepository(trx)) };
    });
  }

  /**
   * Records one delivery attempt, and the notification's new status when it has one, in one
   * statement (inside withLock's transaction, this saves a round trip per notification).
   */
  async recordAttempt(
    id: number,
    outcome: AttemptOutcome,
    error: string | null,
    status?: NotificationStatus,
  ): Promise<void> {
    const delivered = status === 'sent' || status === 'logged';
    await sql`
      WITH attempt AS (
        INSERT INTO notification_attempts (notification_id, outcome, error)
        VALUES (${id}, ${outcome}, ${error})
      )
      UPDATE notifications SET
        attempts = attempts + 1,
        last_error = ${error},
        status = coalesce(${status ?? null}::text, status),
        delivered_at = CASE WHEN ${delivered}::boolean THEN now() ELSE delivered_at END
      WHERE id = ${id}
    `.execute(this.db);
  }
}
