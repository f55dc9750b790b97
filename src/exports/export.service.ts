import {
  ConflictException,
  ForbiddenException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { Readable } from 'node:stream';
import { ExportRecord } from '../database';
import { RequestUser } from '../http/current-user.decorator';
import { JobName, JobProducer, QueueName, QueueRegistry } from '../queue';
import { CreateExportDto } from './dto/create-export.dto';
import { ExportRepository } from './export.repository';

export interface ExportView {
  id: string;
  status: ExportRecord['status'];
  progress: number;
  rowCount: number;
  byteSize: number;
  filters: Record<string, unknown>;
  fileName: string | null;
  error: string | null;
  requestedBy: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface ExportDownload {
  fileName: string;
  byteSize: number;
  stream: Readable;
}

const CHUNKS_PER_QUERY = 4;
const RECOVERY_PAGE = 500;

/**
 * Exports as the API sees them. An export belongs to the user who requested it: only they, or
 * an admin, may read its status or download it.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly exports: ExportRepository,
    private readonly producer: JobProducer,
    private readonly queues: QueueRegistry,
  ) {}

  async request(
    filters: CreateExportDto,
    user: RequestUser,
  ): Promise<{ exportId: string; jobId: string; correlationId: string }> {
    const exportId = await this.exports.create({ ...filters }, user.id);
    const job = await this.producer.enqueue(
      JobName.ExportPayouts,
      { exportId },
      { jobId: exportId },
    );
    return { exportId, jobId: String(job.id), correlationId: job.data.meta.correlationId };
  }

  /**
   * After Redis may have lost writes: every export not finished whose job is gone gets it
   * again. A run still writing one (its job lost under it) is superseded by the new run's
   * token and stops; the new run writes the file from scratch.
   */
  async recoverLostJobs(): Promise<number> {
    let recovered = 0;
    let afterId: string | undefined;
    for (;;) {
      const unfinished = await this.exports.findUnfinished(afterId, RECOVERY_PAGE);
      if (unfinished.length === 0) return recovered;
      afterId = unfinished[unfinished.length - 1];
      for (const exportId of await this.queues.missingJobIds(QueueName.Exports, unfinished)) {
        await this.producer.enqueue(JobName.ExportPayouts, { exportId }, { jobId: exportId });
        recovered += 1;
      }
    }
  }

  async get(id: string, user: RequestUser): Promise<ExportView> {
    return toExportView(await this.findReadable(id, user));
  }

  /** The finished CSV as a stream read from PostgreSQL a few chunks at a time. */
  async download(id: string, user: RequestUser): Promise<ExportDownload> {
    const record = await this.findReadable(id, user);
    if (record.status !== 'done' || !record.file_name) {
      throw new ConflictException(
        `Export ${id} is ${record.status} (${record.progress}%): download it once it is done`,
      );
    }
    return {
      fileName: record.file_name,
      byteSize: Number(record.byte_size),
      stream: Readable.from(this.chunks(id)),
    };
  }

  private async *chunks(id: string): AsyncGenerator<Buffer> {
    let afterSeq = -1;
    for (;;) {
      const rows = await this.exports.chunksAfter(id, afterSeq, CHUNKS_PER_QUERY);
      if (rows.length === 0) return;
      for (const row of rows) yield row.data;
      afterSeq = rows[rows.length - 1].seq;
    }
  }

  private async findReadable(id: string, user: RequestUser): Promise<ExportRecord> {
    const record = await this.exports.findById(id);
    if (!record) throw new NotFoundException(`Export ${id} does not exist`);
    if (!canRead(record, user)) {
      throw new ForbiddenException(
        'Only the user who requested this export, or an admin, can read it',
      );
    }
    return record;
  }
}

export function canRead(record: Pick<ExportRecord, 'requested_by'>, user: RequestUser): boolean {
  return (
    user.role === 'admin' ||
    (record.requested_by !== null && Number(record.requested_by) === user.id)
  );
}

function toExportView(record: ExportRecord): ExportView {
  return {
    id: record.id,
    status: record.status,
    progress: record.progress,
    rowCount: Number(record.row_count),
    byteSize: Number(record.byte_size),
    filters: record.filters,
    fileName: record.file_name,
    error: record.error,
    requestedBy: record.requested_by === null ? null : Number(record.requested_by),
    createdAt: record.created_at,
    finishedAt: record.finished_at,
  };
}
