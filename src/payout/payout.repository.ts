import { Inject, Injectable, Logger } from '@nestjs/common';
import { Kysely, sql, UpdateObject } from 'kysely';
import { Database, DatabaseSchema, Payout, PayoutStatus } from '../database';

export interface Transition {
  /** The statuses the payout may be in for this change; otherwise nothing changes. */
  from: readonly PayoutStatus[];
  to: PayoutStatus;
  set?: Omit<UpdateObject<DatabaseSchema, 'payouts'>, 'status' | 'updated_at'>;
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

  /** Applies a transition if the payout is in one of `from`; records it in payout_events. */
  async transition(id: string, change: Transition): Promise<TransitionResult> {
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('payouts')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!current || !change.from.includes(current.status)) return { changed: false, current };
      const payout = await trx
        .updateTable('payouts')
        .set({ ...change.set, status: change.to, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('payout_events')
        .values({
          payout_id: id,
          from_status: current.status,
          to_status: change.to,
          detail: change.detail,
          correlation_id: change.correlationId,
        })
        .execute();
      if (change.reverseDebit) {
        await trx
          .insertInto('ledger_entries')
          .values({
            payee_id: current.payee_id,
            kind: 'reversal',
            amount_minor: Number(current.amount_minor),
            currency: current.currency,
            payout_id: id,
          })
          .onConflict((oc) =>
            oc.columns(['payout_id', 'kind']).where('payout_id', 'is not', null).doNothing(),
          )
          .execute();
      }
      return { changed: true, payout, previous: current.status };
    });
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
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('payouts')
        .set({
          updated_at: sql<Date>`now()`,
          ...(lastError !== undefined ? { last_error: lastError } : {}),
        })
        .where('id', '=', id)
        .execute();
      await trx
        .insertInto('payout_events')
        .values({
          payout_id: id,
          from_status: status,
          to_status: status,
          detail,
          correlation_id: correlationId,
        })
        .execute();
    });
  }
}
