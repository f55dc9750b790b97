import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { Database, DatabaseSchema, Payout, PayoutStatus } from '../database';
import type { PayoutNotificationRow } from '../notifications/payout-message';

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
  /** Fencing: applies only while the payout's lease_token is this one (the claim's). */
  leaseToken?: string;
  /** Ends the lease (any change out of processing ends it too). */
  releaseLease?: boolean;
  /** Sets the sticky "money may have moved" mark. */
  markOutcomeUnknown?: boolean;
  /**
   * The payee's notification of this outcome, created in the same statement as the status
   * change (so the notification job finds it ready), at most once per payout and outcome.
   */
  notification?: PayoutNotificationRow;
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

export interface LeaseRequest {
  /** This worker (`host:pid:random`), recorded on the payout while it holds the lease. */
  owner: string;
  durationMs: number;
  detail: string;
  correlationId: string | null;
}

export interface Claim {
  payout: PayoutWithPayee;
  /** The fencing token: the attempt's finishing transition must present it. */
  token: string;
  /** The owner of the lapsed lease this claim took over, or null. */
  takenOverFrom: string | null;
}

/**
 * The payout state machine's storage: conditional transitions, each in one transaction with its
 * history row (payout_events) and, for failed/cancelled payouts, the compensating ledger entry.
 */
@Injectable()
export class PayoutRepository {
  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  findById(id: string): Promise<Payout | undefined> {
    return this.db.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Claims the payout for one attempt: pending or processing, and no live lease, becomes
   * processing with a lease (owner, expiry, a new fencing token) and one more attempt, in one
   * statement with its history row. Taking over a lapsed lease marks the payout "money may have
   * moved": the previous holder may have called the provider. Returns undefined when the payout
   * is finished or another worker's lease is live (see `findById` for which).
   */
  async claim(id: string, lease: LeaseRequest): Promise<Claim | undefined> {
    const { rows } = await sql<
      PayoutWithPayee & { previous_owner: string | null; previous_status: PayoutStatus }
    >`
      WITH current AS (
        SELECT id, status, lease_owner FROM payouts WHERE id = ${id} FOR UPDATE
      ), updated AS (
        UPDATE payouts p SET
          status = 'processing',
          attempts = p.attempts + 1,
          processing_started_at = coalesce(p.processing_started_at, now()),
          updated_at = now(),
          lease_owner = ${lease.owner},
          lease_expires_at = now() + ${lease.durationMs} * interval '1 millisecond',
          lease_token = p.lease_token + 1,
          outcome_unknown_at = CASE WHEN c.lease_owner IS NOT NULL
                                    THEN coalesce(p.outcome_unknown_at, now())
                                    ELSE p.outcome_unknown_at END
        FROM current c
        WHERE p.id = c.id AND c.status IN ('pending', 'processing')
          AND (p.lease_expires_at IS NULL OR p.lease_expires_at <= now())
        RETURNING p.*, c.status AS previous_status, c.lease_owner AS previous_owner
      ), event AS (
        INSERT INTO payout_events (payout_id, from_status, to_status, detail, correlation_id)
        SELECT id, previous_status, 'processing',
               ${lease.detail} || CASE WHEN previous_owner IS NULL THEN ''
                 ELSE ' (taken over from ' || previous_owner || ', whose lease lapsed)' END,
               ${lease.correlationId}
        FROM updated
      )
      SELECT updated.*, payees.name AS payee_name, payees.email AS payee_email
      FROM updated JOIN payees ON payees.id = updated.payee_id
    `.execute(this.db);
    const row = rows[0];
    if (!row) return undefined;
    const { previous_owner: previousOwner, previous_status: _, ...payout } = row;
    return { payout, token: String(payout.lease_token), takenOverFrom: previousOwner };
  }

  /** Ends this owner's leases on these payouts now (they may be taken over); answers how many. */
  async endLeases(ids: string[], owner: string): Promise<number> {
    const result = await this.db
      .updateTable('payouts')
      .set({ lease_expires_at: sql<Date>`now()` })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Applies a transition if the payout is in one of `from` (and, when given, still under the
   * same lease token), with its history row, (for failed/cancelled) its reversal and (when
   * given) the payee's notification row, in ONE statement: the row is locked (FOR UPDATE in the first
   * CTE, which sees the latest committed status), so a concurrent transition waits and then
   * finds the new status. A reversal is at most once per payout (unique (payout_id, kind)).
   */
  async transition(id: string, change: Transition): Promise<TransitionResult> {
    const release = sql`${(change.releaseLease ?? false) || change.to !== 'processing'}::boolean`;
    const note = change.notification;
    const { rows } = await sql<Payout & { previous_status: PayoutStatus | null; changed: boolean }>`
      WITH current AS (
        SELECT id, status, lease_token FROM payouts WHERE id = ${id} FOR UPDATE
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
                            THEN ${change.lastError ?? null}::text ELSE p.last_error END,
          lease_owner = CASE WHEN ${release} THEN NULL ELSE p.lease_owner END,
          lease_expires_at = CASE WHEN ${release} THEN NULL ELSE p.lease_expires_at END,
          outcome_unknown_at = CASE WHEN ${change.markOutcomeUnknown ?? false}::boolean
                                    THEN coalesce(p.outcome_unknown_at, now())
                                    ELSE p.outcome_unknown_at END
        FROM current c
        WHERE p.id = c.id AND c.status = ANY(${[...change.from]}::text[])
          AND (${change.leaseToken ?? null}::bigint IS NULL OR c.lease_token = ${change.leaseToken ?? null}::bigint)
        RETURNING p.*, c.status AS previous_status
      ), event AS (
        INSERT INTO payout_events (payout_id, from_status, to_status, detail, correlation_id)
        SELECT id, previous_status, status, ${change.detail}, ${change.correlationId} FROM updated
      ), reversal AS (
        INSERT INTO ledger_entries (payee_id, kind, amount_minor, currency, payout_id)
        SELECT payee_id, 'reversal', amount_minor, currency, id FROM updated
        WHERE ${change.reverseDebit ?? false}::boolean
        ON CONFLICT (payout_id, kind) WHERE payout_id IS NOT NULL DO NOTHING
      ), notification AS (
        INSERT INTO notifications (dedupe_key, payout_id, recipient, subject, body, status)
        SELECT ${note?.dedupeKey ?? null}::text, id, ${note?.recipient ?? null}::text,
               ${note?.subject ?? null}::text, ${note?.body ?? null}::text, 'pending'
        FROM updated
        WHERE ${note !== undefined}::boolean
        ON CONFLICT (dedupe_key) DO NOTHING
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

  /** `note` for many open payouts at once, each event with its payout's current status. */
  async noteMany(ids: readonly string[], detail: string, correlationId: string | null) {
    if (ids.length === 0) return;
    await sql`
      WITH touched AS (
        UPDATE payouts SET updated_at = now()
        WHERE id = ANY(${[...ids]}::uuid[])
        RETURNING id, status
      )
      INSERT INTO payout_events (payout_id, from_status, to_status, detail, correlation_id)
      SELECT id, status, status, ${detail}, ${correlationId} FROM touched
    `.execute(this.db);
  }
}
