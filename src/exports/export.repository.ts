import { Inject, Injectable } from '@nestjs/common';
import { Kysely, RawBuilder, sql, UpdateObject } from 'kysely';
import { Database, DatabaseSchema, ExportRecord } from '../database';
import { CreateExportDto } from './dto/create-export.dto';

export type ExportFilters = CreateExportDto;

/** One CSV line's worth of a payout. */
export interface ExportRow {
  payout_id: string;
  payee_id: number;
  payee_email: string;
  amount_minor: number;
  currency: string;
  status: string;
  provider_reference: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
  /** Keyset position (created_at to the microsecond); not a CSV column. */
  cursor_ts: string;
}

/** An export and the token of the run writing it (see `start`). */
export interface ExportRun {
  id: string;
  token: string;
}

export interface RowCursor {
  createdAt: string;
  id: string;
}

/** Export rows, their CSV content (export_chunks) and the payouts they are read from. */
@Injectable()
export class ExportRepository {
  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  async create(filters: ExportFilters, requestedBy: number | null): Promise<string> {
    const row = await this.db
      .insertInto('exports')
      .values({ requested_by: requestedBy, status: 'pending', filters: JSON.stringify(filters) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  findById(id: string): Promise<ExportRecord | undefined> {
    return this.db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * (Re)starts an export from scratch under a new run token: a retried job never appends to a
   * half-written file, and a run whose job ran again elsewhere can no longer write (its token
   * is gone). Undefined when the export is already done.
   */
  async start(id: string): Promise<string | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const started = await trx
        .updateTable('exports')
        .set({
          status: 'running',
          progress: 0,
          row_count: 0,
          byte_size: 0,
          error: null,
          run_token: sql<string>`gen_random_uuid()`,
        })
        .where('id', '=', id)
        .where('status', '!=', 'done')
        .returning('run_token')
        .executeTakeFirst();
      if (!started?.run_token) return undefined;
      await trx.deleteFrom('export_chunks').where('export_id', '=', id).execute();
      return started.run_token;
    });
  }

  async countRows(filters: ExportFilters): Promise<number> {
    const { rows } = await sql<{ count: number }>`
      SELECT count(*) AS count FROM payouts p WHERE ${whereFilters(filters)}
    `.execute(this.db);
    return Number(rows[0]?.count ?? 0);
  }

  /** The next page of rows in (created_at, id) order, after the cursor. */
  async rowsAfter(
    filters: ExportFilters,
    after: RowCursor | undefined,
    limit: number,
  ): Promise<ExportRow[]> {
    const position = after
      ? sql`(p.created_at, p.id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : sql`true`;
    const { rows } = await sql<ExportRow>`
      SELECT p.id AS payout_id, p.payee_id, e.email AS payee_email, p.amount_minor, p.currency,
             p.status, p.provider_reference, p.attempts, p.last_error, p.created_at, p.finished_at,
             to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_ts
      FROM payouts p
      JOIN payees e ON e.id = p.payee_id
      WHERE ${whereFilters(filters)} AND ${position}
      ORDER BY p.created_at, p.id
      LIMIT ${limit}
    `.execute(this.db);
    return rows;
  }

  /** False when the run was superseded. FOR SHARE waits for a concurrent restart to commit. */
  async appendChunk(run: ExportRun, seq: number, data: Buffer): Promise<boolean> {
    const result = await this.db
      .insertInto('export_chunks')
      .columns(['export_id', 'seq', 'data'])
      .expression(
        this.db
          .selectFrom('exports')
          .select([
            sql<string>`${run.id}::uuid`.as('export_id'),
            sql<number>`${seq}::int`.as('seq'),
            sql<Buffer>`${data}::bytea`.as('data'),
          ])
          .where('id', '=', run.id)
          .where('run_token', '=', run.token)
          .forShare(),
      )
      .executeTakeFirst();
    return result.numInsertedOrUpdatedRows === 1n;
  }

  async chunksAfter(exportId: string, afterSeq: number, limit: number) {
    return this.db
      .selectFrom('export_chunks')
      .select(['seq', 'data'])
      .where('export_id', '=', exportId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /** The writes below touch the export only while `run` still holds it; false: superseded. */
  async progress(run: ExportRun, progress: number, rowCount: number): Promise<boolean> {
    return this.updateOwned(run, { progress, row_count: rowCount });
  }

  async finish(
    run: ExportRun,
    done: { rowCount: number; byteSize: number; fileName: string },
  ): Promise<boolean> {
    return this.updateOwned(run, {
      status: 'done',
      progress: 100,
      row_count: done.rowCount,
      byte_size: done.byteSize,
      file_name: done.fileName,
      finished_at: sql<Date>`now()`,
    });
  }

  async fail(run: ExportRun, error: string): Promise<boolean> {
    return this.updateOwned(run, { status: 'failed', error, finished_at: sql<Date>`now()` });
  }

  /** Exports not finished (pending or running), by id: what Redis must hold a job for. */
  async findUnfinished(afterId: string | undefined, limit: number): Promise<string[]> {
    let query = this.db
      .selectFrom('exports')
      .select('id')
      .where('status', 'in', ['pending', 'running'])
      .orderBy('id')
      .limit(limit);
    if (afterId) query = query.where('id', '>', afterId);
    return (await query.execute()).map((row) => row.id);
  }

  private async updateOwned(run: ExportRun, values: UpdateObject<DatabaseSchema, 'exports'>) {
    const result = await this.db
      .updateTable('exports')
      .set(values)
      .where('id', '=', run.id)
      .where('run_token', '=', run.token)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Deletes finished exports (their chunks cascade) older than `before`. */
  async purgeFinishedBefore(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('exports')
      .where('finished_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function whereFilters(filters: ExportFilters): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (filters.from) parts.push(sql`p.created_at >= ${new Date(filters.from)}`);
  if (filters.to) parts.push(sql`p.created_at < ${new Date(filters.to)}`);
  if (filters.status) parts.push(sql`p.status = ${filters.status}`);
  if (filters.payeeId !== undefined) parts.push(sql`p.payee_id = ${filters.payeeId}`);
  return sql<boolean>`(${sql.join(parts, sql` AND `)})`;
}
