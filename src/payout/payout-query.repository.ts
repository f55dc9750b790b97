import { Inject, Injectable } from '@nestjs/common';
import { Kysely, SelectQueryBuilder, sql } from 'kysely';
import { Database, DatabaseSchema, Payout, PayoutEvent, PayoutStatus } from '../database';

export interface PayoutFilters {
  status?: PayoutStatus;
  payeeId?: number;
  /** Created at or after (inclusive). */
  from?: Date;
  /** Created before (exclusive). */
  to?: Date;
}

/** Position after the last row of a page: created_at to the microsecond, then id. */
export interface PayoutCursor {
  createdAt: string;
  id: string;
}

export type PayoutRow = Payout & { cursor_ts: string };

/** Reads of payouts: the API's lists and details, and the reconciler's search for stuck ones. */
@Injectable()
export class PayoutQueryRepository {
  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  /** How many payouts match the filters (all pages). */
  async count(filters: PayoutFilters): Promise<number> {
    const row = await this.filtered(
      this.db.selectFrom('payouts').select(sql<number>`count(*)::int`.as('n')),
      filters,
    ).executeTakeFirstOrThrow();
    return row.n;
  }

  /** Newest first, keyset-paginated (stable under concurrent inserts, cheap at any depth). */
  async list(filters: PayoutFilters, limit: number, after?: PayoutCursor): Promise<PayoutRow[]> {
    let query = this.filtered(this.db.selectFrom('payouts').selectAll(), filters)
      // JS dates stop at milliseconds; PostgreSQL keeps microseconds, which the cursor needs.
      .select(
        sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
          'cursor_ts',
        ),
      )
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (after) {
      query = query.where(
        sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
      );
    }
    return query.execute();
  }

  private filtered<Q extends SelectQueryBuilder<DatabaseSchema, 'payouts', object>>(
    query: Q,
    filters: PayoutFilters,
  ): Q {
    let q = query as SelectQueryBuilder<DatabaseSchema, 'payouts', object>;
    if (filters.status) q = q.where('status', '=', filters.status);
    if (filters.payeeId !== undefined) q = q.where('payee_id', '=', filters.payeeId);
    if (filters.from) q = q.where('created_at', '>=', filters.from);
    if (filters.to) q = q.where('created_at', '<', filters.to);
    return q as Q;
  }

  async findWithEvents(id: string): Promise<{ payout: Payout; events: PayoutEvent[] } | undefined> {
    const payout = await this.db
      .selectFrom('payouts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!payout) return undefined;
    const events = await this.db
      .selectFrom('payout_events')
      .selectAll()
      .where('payout_id', '=', id)
      .orderBy('id')
      .execute();
    return { payout, events };
  }

  /**
   * Payouts still open (pending or processing) with no change since `olderThan`, and processing
   * ones whose lease lapsed (their worker died, froze or lost the network), by id.
   */
  async findStuck(olderThan: Date, afterId: string | undefined, limit: number): Promise<Payout[]> {
    let query = this.db
      .selectFrom('payouts')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('status', 'in', ['pending', 'processing']), eb('updated_at', '<', olderThan)]),
          eb.and([eb('status', '=', 'processing'), eb('lease_expires_at', '<=', sql<Date>`now()`)]),
        ]),
      )
      .orderBy('id')
      .limit(limit);
    if (afterId) query = query.where('id', '>', afterId);
    return query.execute();
  }

  /** Every payout still open (pending or processing), by id: what Redis must hold a job for. */
  async findOpen(afterId: string | undefined, limit: number): Promise<Payout[]> {
    let query = this.db
      .selectFrom('payouts')
      .selectAll()
      .where('status', 'in', ['pending', 'processing'])
      .orderBy('id')
      .limit(limit);
    if (afterId) query = query.where('id', '>', afterId);
    return query.execute();
  }

  /**
   * Payouts that finished (paid or failed) since `since` and whose email was not delivered nor
   * given up on: their notification job must still exist somewhere.
   */
  async findUnnotified(
    since: Date,
    afterId: string | undefined,
    limit: number,
  ): Promise<Array<{ id: string; status: 'paid' | 'failed' }>> {
    let query = this.db
      .selectFrom('payouts as p')
      .select(['p.id', 'p.status'])
      .where('p.status', 'in', ['paid', 'failed'])
      .where('p.finished_at', '>=', since)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('notifications as n')
              .select(sql`1`.as('one'))
              .where('n.dedupe_key', '=', sql<string>`'payout:' || p.id || ':' || p.status`)
              .where('n.status', '!=', 'pending'),
          ),
        ),
      )
      .orderBy('p.id')
      .limit(limit);
    if (afterId) query = query.where('p.id', '>', afterId);
    return (await query.execute()) as Array<{ id: string; status: 'paid' | 'failed' }>;
  }
}
