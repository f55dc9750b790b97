import { Inject, Injectable } from '@nestjs/common';
import { Kysely, RawBuilder, sql } from 'kysely';
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

  /** (Re)starts an export from scratch: a retried job never appends to a half-written file. */
  async start(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const started = await trx
        .updateTable('exports')
        .set({ status: 'running', progress: 0, row_count: 0, byte_size: 0, error: null })
        .where('id', '=', id)
        .where('status', '!=', 'done')
        .executeTakeFirst();
      await trx.deleteFrom('export_chunks').where('export_id', '=', id).execute();
      return started.numUpdatedRows > 0n;
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

  async appendChunk(exportId: string, seq: number, data: Buffer): Promise<void> {
    await this.db.insertInto('export_chunks').values({ export_id: exportId, seq, data }).execute();
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

  async progress(id: string, progress: number, rowCount: number): Promise<void> {
    await this.db
      .updateTable('exports')
      .set({ progress, row_count: rowCount })
      .where('id', '=', id)
      .execute();
  }

  async finish(id: string, done: { rowCount: number; byteSize: number; fileName: string }) {
    await this.db
      .updateTable('exports')
      .set({
        status: 'done',
        progress: 100,
        row_count: done.rowCount,
        byte_size: done.byteSize,
        file_name: done.fileName,
        finished_at: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .execute();
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db
      .updateTable('exports')
      .set({ status: 'failed', error, finished_at: sql<Date>`now()` })
      .where('id', '=', id)
      .execute();
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
