import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
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

  /** Newest first, keyset-paginated (stable under concurrent inserts, cheap at any depth). */
  async list(filters: PayoutFilters, limit: number, after?: PayoutCursor): Promise<PayoutRow[]> {
    let query = this.db
      .selectFrom('payouts')
      .selectAll()
      // JS dates stop at milliseconds; PostgreSQL keeps microseconds, which the cursor needs.
      .select(
        sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
          'cursor_ts',
        ),
      )
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.payeeId !== undefined) query = query.where('payee_id', '=', filters.payeeId);
    if (filters.from) query = query.where('created_at', '>=', filters.from);
    if (filters.to) query = query.where('created_at', '<', filters.to);
    if (after) {
      query = query.where(
        sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
      );
    }
    return query.execute();
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
}
