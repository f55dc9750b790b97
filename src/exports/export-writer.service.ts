import { Injectable, Logger } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../config';
import { PermanentJobError } from '../queue';
import {
  ExportFilters,
  ExportRepository,
  ExportRow,
  ExportRun,
  RowCursor,
} from './export.repository';

export const CSV_COLUMNS: ReadonlyArray<keyof ExportRow> = [
  'payout_id',
  'payee_id',
  'payee_email',
  'amount_minor',
  'currency',
  'status',
  'provider_reference',
  'attempts',
  'last_error',
  'created_at',
  'finished_at',
];

const ROWS_PER_BATCH = 1_000;
/** CSV bytes per export_chunks row. */
const CHUNK_BYTES = 256 * 1024;

export type ExportRunResult =
  | { outcome: 'done'; rowCount: number; byteSize: number }
  | { outcome: 'skipped'; reason: string };

/**
 * Writes the CSV of an export into PostgreSQL as a stream: keyset batches of payouts ->
 * csv-stringify -> chunks of 256 KiB. Memory stays constant at any size; progress is reported
 * after each batch, to the job and to the exports row.
 */
@Injectable()
export class ExportWriterService {
  private readonly logger = new Logger(ExportWriterService.name);

  constructor(
    private readonly exports: ExportRepository,
    private readonly config: AppConfig,
  ) {}

  async run(
    exportId: string,
    onProgress: (percent: number) => Promise<void> | void,
    attempt: { attempt: number; maxAttempts: number },
  ): Promise<ExportRunResult> {
    const record = await this.exports.findById(exportId);
    if (!record) throw new PermanentJobError(`Export ${exportId} does not exist`);
    const token = await this.exports.start(exportId);
    if (!token) return { outcome: 'skipped', reason: 'already done' };
    const run: ExportRun = { id: exportId, token };
    try {
      const filters = record.filters as ExportFilters;
      const total = await this.exports.countRows(filters);
      let rowCount = 0;
      const reportBatch = async (rows: number) => {
        rowCount += rows;
        const percent = total === 0 ? 100 : Math.min(99, Math.floor((rowCount * 100) / total));
        superseded(await this.exports.progress(run, percent, rowCount), exportId);
        await onProgress(percent);
      };
      const byteSize = await this.writeCsv(run, this.rows(filters, reportBatch));
      const day = record.created_at.toISOString().slice(0, 10);
      const fileName = `payouts-${day}-${exportId.slice(0, 8)}.csv`;
      superseded(await this.exports.finish(run, { rowCount, byteSize, fileName }), exportId);
      await onProgress(100);
      await this.purgeExpired();
      this.logger.log(`Export ${exportId}: ${rowCount} rows, ${byteSize} bytes`);
      return { outcome: 'done', rowCount, byteSize };
    } catch (error) {
      const permanent = error instanceof PermanentJobError;
      if (permanent || attempt.attempt >= attempt.maxAttempts) {
        await this.exports.fail(run, (error as Error).message);
      }
      throw error;
    }
  }

  private async *rows(
    filters: ExportFilters,
    reportBatch: (rows: number) => Promise<void>,
  ): AsyncGenerator<ExportRow> {
    let after: RowCursor | undefined;
    for (;;) {
      const batch = await this.exports.rowsAfter(filters, after, ROWS_PER_BATCH);
      if (batch.length === 0) return;
      for (const row of batch) yield row;
      const last = batch[batch.length - 1];
      after = { createdAt: last.cursor_ts, id: last.payout_id };
      await reportBatch(batch.length);
    }
  }

  /** Streams the rows as CSV into export_chunks; returns the byte size. */
  private async writeCsv(run: ExportRun, rows: AsyncIterable<ExportRow>): Promise<number> {
    let seq = 0;
    let byteSize = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      superseded(await this.exports.appendChunk(run, seq++, data), run.id);
      byteSize += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    const csv = stringify({
      header: true,
      columns: CSV_COLUMNS as string[],
      cast: { date: (value: Date) => value.toISOString() },
    });
    await pipeline(Readable.from(rows), csv, async (chunks: AsyncIterable<Buffer | string>) => {
      for await (const chunk of chunks) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        pending.push(buffer);
        pendingBytes += buffer.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
      await flush();
    });
    return byteSize;
  }

  private async purgeExpired(): Promise<void> {
    const before = new Date(Date.now() - this.config.exports.retentionMs);
    const purged = await this.exports.purgeFinishedBefore(before);
    if (purged > 0) this.logger.log(`Deleted ${purged} exports older than EXPORT_RETENTION`);
  }
}

/**
 * Stops a run whose export was restarted by another run of its job (a job re-created after
 * Redis lost it, a stalled job run again): the newer run owns the file now. Permanent, so this
 * job does not retry and supersede the newer run in turn.
 */
function superseded(stillOwned: boolean, exportId: string): void {
  if (!stillOwned) {
    throw new PermanentJobError(
      `Export ${exportId} is being written by a newer run: this run stops`,
    );
  }
}
