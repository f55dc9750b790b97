import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { Gauge } from 'prom-client';
import { JOB_STATES, QUEUE_NAMES, QueueName } from '../queue';
import { QueueRegistry } from '../queue/queue-registry';
import { MetricsRegistry } from './metrics.registry';
import { scrapeRead } from './with-timeout';

/** Bull's connections wait for Redis instead of failing: a scrape must not wait with them. */
const REDIS_READ_TIMEOUT_MS = 2_000;

interface Snapshot {
  counts: Map<QueueName, Record<string, number>>;
  paused: Map<QueueName, boolean>;
  /** Worker connections attached (CLIENT LIST); absent when Redis refuses CLIENT LIST. */
  workers: Map<QueueName, number | undefined>;
  /** Enqueue time (epoch ms) of the job that has waited longest; absent when none waits. */
  oldestWaiting: Map<QueueName, number | undefined>;
}

/**
 * Queue sizes, read from Redis when Prometheus scrapes, so every API instance reports the same,
 * cluster-wide numbers whichever instance is scraped. Registered by the HTTP roles only: a
 * worker's metrics server would report the same numbers again. The gauges of one scrape share
 * one read; while Redis does not answer, the queue series are left out (never stale values),
 * queue_metrics_up is 0, and the process metrics are still served.
 */
@Injectable()
export class QueueGauges {
  private readonly logger = new Logger(QueueGauges.name);

  constructor(
    private readonly queues: QueueRegistry,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    const read = scrapeRead(() => this.snapshot(), {
      timeoutMs: REDIS_READ_TIMEOUT_MS,
      logger: this.logger,
      failure: 'Queue gauges not read from Redis',
    });
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs in each queue by state, read from Redis at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        for (const [queue, counts] of snapshot?.counts ?? []) {
          for (const state of JOB_STATES) this.set({ queue, state }, counts[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'queue_paused',
      help: '1 while a queue is paused globally (POST /queues/:name/pause)',
      labelNames: ['queue'],
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        for (const [queue, paused] of snapshot?.paused ?? []) this.set({ queue }, paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'queue_workers',
      help: 'Worker connections consuming each queue (Bull getWorkers: CLIENT LIST), cluster-wide',
      labelNames: ['queue'],
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        for (const [queue, workers] of snapshot?.workers ?? []) {
          if (workers !== undefined) this.set({ queue }, workers);
        }
      },
    });
    new Gauge({
      name: 'queue_oldest_waiting_job_age_seconds',
      help: 'Age of the job that has waited longest in each queue (waiting or paused), 0 when none waits',
      labelNames: ['queue'],
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        const now = Date.now();
        for (const [queue, enqueuedAt] of snapshot?.oldestWaiting ?? []) {
          this.set({ queue }, enqueuedAt === undefined ? 0 : Math.max(0, now - enqueuedAt) / 1000);
        }
      },
    });
    new Gauge({
      name: 'queue_metrics_up',
      help: '1 when the queue gauges could be read from Redis at this scrape',
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
  }

  private async snapshot(): Promise<Snapshot> {
    const [counts, paused, workers, oldest] = await Promise.all([
      Promise.all(QUEUE_NAMES.map((name) => this.queues.get(name).getJobCounts())),
      Promise.all(QUEUE_NAMES.map((name) => this.queues.get(name).isPaused())),
      Promise.all(QUEUE_NAMES.map((name) => workersOf(this.queues.get(name)))),
      Promise.all(QUEUE_NAMES.map((name) => oldestWaitingAt(this.queues.get(name)))),
    ]);
    return {
      counts: new Map(
        QUEUE_NAMES.map((q, i) => [q, counts[i] as unknown as Record<string, number>]),
      ),
      paused: new Map(QUEUE_NAMES.map((q, i) => [q, paused[i]])),
      workers: new Map(QUEUE_NAMES.map((q, i) => [q, workers[i]])),
      oldestWaiting: new Map(QUEUE_NAMES.map((q, i) => [q, oldest[i]])),
    };
  }
}

/** undefined when the Redis provider refuses CLIENT LIST (then the series is left out). */
async function workersOf(queue: Queue): Promise<number | undefined> {
  const list = await queue.getWorkers().catch(() => undefined);
  return Array.isArray(list) ? list.length : undefined;
}

/**
 * Enqueue time of the job that has waited longest: the tail of the wait list (Bull pushes new
 * jobs at the head, workers take from the tail), or of the paused list while paused.
 */
async function oldestWaitingAt(queue: Queue): Promise<number | undefined> {
  for (const list of ['wait', 'paused']) {
    const [id] = await queue.client.lrange(queue.toKey(list), -1, -1);
    if (!id) continue;
    const timestamp = Number(await queue.client.hget(queue.toKey(id), 'timestamp'));
    if (Number.isFinite(timestamp) && timestamp > 0) return timestamp;
  }
  return undefined;
}
