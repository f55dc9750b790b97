import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueName } from './queue-names';
import { QueueRegistry } from './queue-registry';

/** Entries kept per correlation ID (the newest): a runaway ID cannot grow its index forever. */
export const CORRELATION_INDEX_MAX_ENTRIES = 1_000_000;
/** Shortest lifetime of an index key, whatever FAILED_JOB_RETENTION says. */
const MIN_INDEX_TTL_MS = 3_600_000;
/** Score/member pairs per ZADD, so a bulk of 100k jobs is not one giant command. */
const ZADD_CHUNK = 5_000;

/** One job of a trail, as the index knows it. */
export interface CorrelationEntry {
  queue: string;
  jobId: string;
  /** When the entry was written (the job's enqueue time, to the millisecond). */
  at: number;
}

/** Where a page of the index starts: the score, and how many entries of that score were read. */
export interface IndexPosition {
  score: number;
  skip: number;
}

/**
 * The jobs of each correlation ID, so a request's trail is read from an index instead of a scan
 * of the queues: a sorted set `<prefix>:corr:<correlationId>` of `<queue>:<jobId>` scored by
 * enqueue time. JobProducer writes it right after each add (one pipelined round trip per
 * enqueue call, a bulk included). The key lives as long as a failed job is kept
 * (FAILED_JOB_RETENTION, at least an hour), renewed by each write, and keeps the newest
 * CORRELATION_INDEX_MAX_ENTRIES; jobs trimmed earlier by their retention leave entries behind,
 * which readers skip and count.
 */
@Injectable()
export class CorrelationIndex {
  private readonly logger = new Logger(CorrelationIndex.name);

  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
  ) {}

  key(correlationId: string): string {
    return `${this.config.redis.prefix}:corr:${correlationId}`;
  }

  /**
   * Adds jobs of one queue to a correlation's index. A failed write is logged, not thrown: the
   * jobs exist already, and failing the enqueue would invite a duplicate.
   */
  async record(
    correlationId: string,
    queue: QueueName,
    jobIds: ReadonlyArray<string | number | undefined>,
    at = Date.now(),
  ): Promise<void> {
    const members = jobIds.filter((id) => id !== undefined).map((id) => `${queue}:${id}`);
    if (members.length === 0) return;
    const key = this.key(correlationId);
    const pipeline = this.queues.get(queue).client.pipeline();
    for (let start = 0; start < members.length; start += ZADD_CHUNK) {
      const pairs = members.slice(start, start + ZADD_CHUNK).flatMap((member) => [at, member]);
      pipeline.zadd(key, ...pairs);
    }
    pipeline.zremrangebyrank(key, 0, -(CORRELATION_INDEX_MAX_ENTRIES + 1));
    pipeline.pexpire(key, Math.max(this.config.queue.failedRetentionMs, MIN_INDEX_TTL_MS));
    try {
      const failure = ((await pipeline.exec()) ?? []).find(([error]) => error)?.[0];
      if (failure) throw failure;
    } catch (error) {
      this.logger.warn(
        `Correlation index not written for ${members.length} ${queue} job(s) of ${correlationId}: ` +
          `${(error as Error).message} (they are missing from GET /jobs/by-correlation)`,
      );
    }
  }

  /**
   * Up to `limit` entries, oldest first, from `from` on; `next` is where the following page
   * starts, or null when this page reaches the end. One command (O(log N + skip + limit)); `skip` only counts entries
   * sharing one millisecond, so a page never walks the entries before it.
   */
  async page(
    correlationId: string,
    from: IndexPosition,
    limit: number,
  ): Promise<{ entries: CorrelationEntry[]; next: IndexPosition | null }> {
    const client = this.queues.get(QueueName.Payouts).client;
    const reply = await client.zrangebyscore(
      this.key(correlationId),
      from.score,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      from.skip,
      // One more than asked: whether a next page exists, without an empty last page.
      limit + 1,
    );
    const entries: CorrelationEntry[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const separator = reply[i].indexOf(':');
      entries.push({
        queue: reply[i].slice(0, separator),
        jobId: reply[i].slice(separator + 1),
        at: Number(reply[i + 1]),
      });
    }
    if (entries.length <= limit) return { entries, next: null };
    entries.length = limit;
    const last = entries[entries.length - 1].at;
    const sameScore = entries.filter((entry) => entry.at === last).length;
    return {
      entries,
      next: { score: last, skip: last === from.score ? from.skip + sameScore : sameScore },
    };
  }
}
