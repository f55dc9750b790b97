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
   * The notification of this payout outcome, created on first call. Its dedupe key
   * (`payout:<id>:<outcome>`) is unique, so a job run twice finds the same row.
   */
  async ensureForPayout(
    payoutId: string,
    outcome: 'paid' | 'failed',
  ): Promise<Notification | undefined> {
    const dedupeKey = `payout:${payoutId}:${outcome}`;
    const existing = await this.findByDedupeKey(dedupeKey);
    if (existing) return existing;
    const payout = await this.db
      .selectFrom('payouts')
      .innerJoin('payees', 'payees.id', 'payouts.payee_id')
      .select([
        'payouts.amount_minor',
        'payouts.currency',
        'payouts.provider_reference',
        'payouts.last_error',
        'payees.name',
        'payees.email',
      ])
      .where('payouts.id', '=', payoutId)
      .executeTakeFirst();
    if (!payout) return undefined;
    const { subject, body } = composePayoutMessage({
      outcome,
      payeeName: payout.name,
      amountMinor: Number(payout.amount_minor),
      currency: payout.currency,
      providerReference: payout.provider_reference,
      lastError: payout.last_error,
    });
    await this.db
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
      .execute();
    return this.findByDedupeKey(dedupeKey);
  }

  findByDedupeKey(dedupeKey: string): Promise<Notification | undefined> {
    return this.db
      .selectFrom('notifications')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirst();
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

  /** Records one delivery attempt, and the notification's new status when it has one. */
  async recordAttempt(
    id: number,
    outcome: AttemptOutcome,
    error: string | null,
    status?: NotificationStatus,
  ): Promise<void> {
    await this.db
      .insertInto('notification_attempts')
      .values({ notification_id: id, outcome, error })
      .execute();
    await this.db
      .updateTable('notifications')
      .set({
        attempts: sql<number>`attempts + 1`,
        last_error: error,
        ...(status ? { status } : {}),
        ...(status === 'sent' || status === 'logged' ? { delivered_at: sql<Date>`now()` } : {}),
      })
      .where('id', '=', id)
      .execute();
  }
}
