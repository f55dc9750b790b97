import { Inject, Injectable } from '@nestjs/common';
import { Kysely, RawBuilder, sql } from 'kysely';
import { Database, DatabaseSchema } from '../database';

export interface CreatedPayout {
  id: string;
  payeeId: number;
  amountMinor: number;
  currency: string;
}

export interface CreatePayoutsOptions {
  /** Pay any positive balance (an admin's "pay now"), not only one that reached the minimum. */
  ignoreMinimum: boolean;
  correlationId: string;
  detail: string;
  /** The creating job (`<job name>:<job id>`), so a rerun of it finds what it left without a job. */
  createdByJob: string | null;
}

/**
 * Balances and the creation of payouts from them. A balance is the sum of a payee's ledger
 * entries (earnings and reversals positive, payout debits negative, integer minor units); a
 * payout's debit is written with it, so an open payout already counts against the balance.
 */
@Injectable()
export class LedgerRepository {
  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  /** One keyset page of active payee IDs after `afterId` (constant memory however many payees). */
  async activePayeeIds(afterId: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('payees')
      .select('id')
      .where('active', '=', true)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => Number(row.id));
  }

  /** Payouts still `pending` that this job created: after a crash, possibly without a job. */
  async pendingCreatedBy(job: string): Promise<CreatedPayout[]> {
    const rows = await this.db
      .selectFrom('payouts')
      .select(['id', 'payee_id', 'amount_minor', 'currency'])
      .where('created_by_job', '=', job)
      .where('status', '=', 'pending')
      .orderBy('payee_id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      payeeId: Number(row.payee_id),
      amountMinor: Number(row.amount_minor),
      currency: row.currency,
    }));
  }

  /**
   * The payees among `ids` whose balance has reached their minimum, read without locks: a cheap
   * filter, so that only these are locked and checked again by createPayouts.
   */
  async payeesDue(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<{ id: number }>`
      SELECT p.id
      FROM payees p
      CROSS JOIN LATERAL (${balanceOf(sql`p`)}) b
      WHERE p.id = ANY(${ids}::bigint[])
        AND b.balance >= p.minimum_payout_minor
    `.execute(this.db);
    return rows.map((row) => Number(row.id));
  }

  /**
   * Creates, in one transaction, a `pending` payout of the whole balance and its ledger debit for
   * each of these payees whose balance is due. Safe when run twice at once or twice in a row:
   *   1. the payee rows are locked first (in id order, so two cycles never deadlock), and the
   *      balances are read by the NEXT statement, whose snapshot (READ COMMITTED) includes what
   *      a cycle that held the locks before us committed: its debit, hence a zero balance;
   *   2. the idempotency key names the payee and the last ledger entry of the balance, and is
   *      unique: the same balance can never become two payouts, whatever the isolation.
   * FOR NO KEY UPDATE (not FOR UPDATE) serialises cycles without blocking the foreign-key checks
   * of new earnings being inserted for these payees meanwhile.
   */
  async createPayouts(payeeIds: number[], options: CreatePayoutsOptions): Promise<CreatedPayout[]> {
    if (payeeIds.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      await sql`
        SELECT id FROM payees
        WHERE id = ANY(${payeeIds}::bigint[]) AND active
        ORDER BY id
        FOR NO KEY UPDATE
      `.execute(trx);
      const { rows } = await sql<{
        id: string;
        payee_id: number;
        amount_minor: number;
        currency: string;
      }>`
        WITH due AS (
          SELECT p.id AS payee_id, p.currency, b.balance, b.through_id
          FROM payees p
          CROSS JOIN LATERAL (${balanceOf(sql`p`)}) b
          WHERE p.id = ANY(${payeeIds}::bigint[]) AND p.active
            AND b.balance >= CASE WHEN ${options.ignoreMinimum}::boolean THEN 1
                                  ELSE p.minimum_payout_minor END
        ), created AS (
          INSERT INTO payouts (payee_id, amount_minor, currency, status, idempotency_key,
                               correlation_id, created_by_job)
          SELECT payee_id, balance, currency, 'pending',
                 'payee:' || payee_id || ':through:' || through_id, ${options.correlationId},
                 ${options.createdByJob}
          FROM due
          ORDER BY payee_id
          ON CONFLICT (idempotency_key) DO NOTHING
          RETURNING id, payee_id, amount_minor, currency
        ), debits AS (
          INSERT INTO ledger_entries (payee_id, kind, amount_minor, currency, payout_id)
          SELECT payee_id, 'payout', -amount_minor, currency, id FROM created
        ), events AS (
          INSERT INTO payout_events (payout_id, from_status, to_status, detail, correlation_id)
          SELECT id, NULL, 'pending', ${options.detail}, ${options.correlationId} FROM created
        )
        SELECT id, payee_id, amount_minor, currency FROM created ORDER BY payee_id
      `.execute(trx);
      return rows.map((row) => ({
        id: row.id,
        payeeId: Number(row.payee_id),
        amountMinor: Number(row.amount_minor),
        currency: row.currency,
      }));
    });
  }
}

/**
 * The balance of the payee row `payee` and the last entry it includes, for a LATERAL join: one
 * index-only range scan per payee. (A plain join + GROUP BY over an id list lets the planner
 * pick a sequential scan of the whole ledger: 68 ms instead of 3 ms per 1,000 payees.)
 */
function balanceOf(payee: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT sum(l.amount_minor) AS balance, max(l.id) AS through_id
    FROM ledger_entries l
    WHERE l.payee_id = ${payee}.id AND l.currency = ${payee}.currency
  `;
}
