import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueName } from '../queue';
import { RedisConnections } from '../redis/redis-connections';
import { BUCKET_MS, MinuteCounts, slidingWindow, ThroughputWindow } from './throughput.window';

export type JobOutcome = 'completed' | 'failed';

export interface QueueThroughput {
  lastMinute: ThroughputWindow;
  lastHour: ThroughputWindow;
}

/** An hour of buckets plus the partial one at each end, and a margin for clock skew. */
const HOUR_BUCKETS = 60;
const BUCKET_TTL_MS = (HOUR_BUCKETS + 5) * BUCKET_MS;
/** How long finished-job counts wait in memory before one pipelined write. */
const FLUSH_MS = 1_000;

type Counts = Record<JobOutcome, number>;

/**
 * Finished-job counts per queue and minute, in Redis, so every worker process adds to the same
 * numbers and any API instance can read them. One hash per queue and minute
 * (`<prefix>:throughput:<queue>:<minute>` with fields completed/failed) that expires after an
 * hour. A worker counts in memory and writes the counts once a second (HINCRBY + PEXPIRE per
 * bucket, one pipelined round trip), and at shutdown: a Redis round trip per finished job cost
 * a tenth of the worker's job rate (bench/README.md). A failed write keeps its counts for the
 * next one. (Counting finishedOn of the jobs kept in Redis would undercount: completed jobs are
 * trimmed to COMPLETED_JOB_RETENTION, and it costs a scan per read.)
 */
@Injectable()
export class ThroughputStore {
  private readonly logger = new Logger(ThroughputStore.name);
  private pending = new Map<string, Counts>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  /** Counts a finished job in its minute; written to Redis within FLUSH_MS. */
  record(queue: QueueName, outcome: JobOutcome, at = Date.now()): void {
    this.add(this.key(queue, Math.floor(at / BUCKET_MS)), { [outcome]: 1 });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes the counts waiting in memory (the timer does, and JobMetricsListener at shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.redis.commands.pipeline();
    for (const [key, counts] of batch) {
      for (const outcome of ['completed', 'failed'] as const) {
        if (counts[outcome] > 0) pipeline.hincrby(key, outcome, counts[outcome]);
      }
      pipeline.pexpire(key, BUCKET_TTL_MS);
    }
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failure = replies.find(([error]) => error)?.[0];
      if (failure) throw failure;
    } catch (error) {
      // Kept for the next write (a few keys per queue and minute: bounded).
      for (const [key, counts] of batch) this.add(key, counts);
      this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
      this.logger.warn(`Throughput counts not written yet: ${(error as Error).message}`);
    }
  }

  private add(key: string, counts: Partial<Counts>): void {
    const current = this.pending.get(key) ?? { completed: 0, failed: 0 };
    current.completed += counts.completed ?? 0;
    current.failed += counts.failed ?? 0;
    this.pending.set(key, current);
  }

  /** Last minute and last hour for each queue, in one round trip. */
  async read(
    queues: readonly QueueName[],
    now = Date.now(),
  ): Promise<Map<QueueName, QueueThroughput>> {
    const minute = Math.floor(now / BUCKET_MS);
    const pipeline = this.redis.commands.pipeline();
    for (const queue of queues) {
      for (let k = 0; k <= HOUR_BUCKETS; k += 1) {
        pipeline.hmget(this.key(queue, minute - k), 'completed', 'failed');
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const result = new Map<QueueName, QueueThroughput>();
    queues.forEach((queue, index) => {
      const buckets: MinuteCounts[] = replies
        .slice(index * (HOUR_BUCKETS + 1), (index + 1) * (HOUR_BUCKETS + 1))
        .map(([error, value]) => {
          if (error) throw error;
          const [completed, failed] = value as Array<string | null>;
          return { completed: Number(completed ?? 0), failed: Number(failed ?? 0) };
        });
      result.set(queue, {
        lastMinute: slidingWindow(buckets, 1, now),
        lastHour: slidingWindow(buckets, HOUR_BUCKETS, now),
      });
    });
    return result;
  }

  private key(queue: QueueName, minute: number): string {
    return `${this.config.redis.prefix}:throughput:${queue}:${minute}`;
  }
}
