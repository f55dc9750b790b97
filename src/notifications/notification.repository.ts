import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { Database, DatabaseSchema, Notification, NotificationStatus } from '../database';
import { composePayoutMessage, payoutNotificationKey } from './payout-message';

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
    const dedupeKey = payoutNotificationKey(payoutId, outcome);
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
      .returningAll()
      .executeTakeFirst();
    // Nothing returned: a concurrent run created it first.
    return created ?? this.findByDedupeKey(dedupeKey);
  }

  async payoutExists(payoutId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('payouts')
      .select('id')
      .where('id', '=', payoutId)
      .executeTakeFirst();
    return row !== undefined;
  }

  findByDedupeKey(dedupeKey: string): Promise<Notification | undefined> {
    return this.db
      .selectFrom('notifications')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirst();
  }

  /**
   * Takes the lease of a pending notification: this run alone may send it until `leaseMs` have
   * passed. A conditional update, not a row lock: no transaction stays open while the SMTP
   * server answers. Undefined: it is not pending, or another run holds a live lease.
   */
  async claim(id: number, token: string, leaseMs: number): Promise<Notification | undefined> {
    return this.db
      .updateTable('notifications')
      .set({ lease_token: token, lease_until: sql<Date>`now() + ${leaseMs} * interval '1 ms'` })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) =>
        eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * `claim` by dedupe key, for a row the payout's finishing statement created: the usual way
   * in, one statement. Undefined: there is no such row yet, it is not pending, or it is leased.
   */
  async claimByDedupeKey(
    dedupeKey: string,
    token: string,
    leaseMs: number,
  ): Promise<Notification | undefined> {
    return this.db
      .updateTable('notifications')
      .set({ lease_token: token, lease_until: sql<Date>`now() + ${leaseMs} * interval '1 ms'` })
      .where('dedupe_key', '=', dedupeKey)
      .where('status', '=', 'pending')
      .where((eb) =>
        eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * An operator retried the failed job (Bull stamps `retriedOn`): a failed notification becomes
   * pending again, once per retry, so the retry sends it instead of completing as a duplicate.
   */
  async reopenForRetry(id: number, retriedOn: number): Promise<boolean> {
    const reopened = await this.db
      .updateTable('notifications')
      .set({
        status: 'pending',
        reopened_for_retry: retriedOn,
        lease_token: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .where((eb) =>
        eb.or([eb('reopened_for_retry', 'is', null), eb('reopened_for_retry', '<', retriedOn)]),
      )
      .executeTakeFirst();
    return reopened.numUpdatedRows > 0n;
  }

  /**
   * Records one delivery attempt, the notification's new status when it has one, and gives the
   * lease back, in one statement (so one implicit transaction), after the SMTP exchange. The
   * attempt is recorded whatever happens; the row changes only under this run's lease: a run
   * whose lease lapsed and was taken over must not overwrite the newer run's result.
   */
  async recordAttempt(
    id: number,
    token: string,
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
        last_error = ${error}::text,
        lease_token = NULL,
        lease_until = NULL,
        status = coalesce(${status ?? null}::text, status),
        delivered_at = CASE WHEN ${delivered}::boolean THEN now() ELSE delivered_at END
      WHERE id = ${id} AND lease_token = ${token}::uuid
    `.execute(this.db);
  }
}
