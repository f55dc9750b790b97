import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { QUEUE_NAMES, QueueName } from '../queue';
import { QueueRegistry } from '../queue/queue-registry';
import { MetricsRegistry } from './metrics.registry';

export const JOB_STATES = [
  'waiting',
  'active',
  'completed',
  'failed',
  'delayed',
  'paused',
] as const;

/** Bull's connections wait for Redis instead of failing: a scrape must not wait with them. */
const REDIS_READ_TIMEOUT_MS = 2_000;

interface Snapshot {
  counts: Map<QueueName, Record<string, number>>;
  paused: Map<QueueName, boolean>;
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
  private pending?: Promise<Snapshot | undefined>;

  constructor(
    private readonly queues: QueueRegistry,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    const read = () => this.read();
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
      name: 'queue_metrics_up',
      help: '1 when the queue gauges could be read from Redis at this scrape',
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
  }

  /** One Redis read per scrape, shared by the gauges that collect concurrently. */
  private read(): Promise<Snapshot | undefined> {
    this.pending ??= this.snapshot().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async snapshot(): Promise<Snapshot | undefined> {
    try {
      const [counts, paused] = await withTimeout(
        Promise.all([
          Promise.all(QUEUE_NAMES.map((name) => this.queues.get(name).getJobCounts())),
          Promise.all(QUEUE_NAMES.map((name) => this.queues.get(name).isPaused())),
        ]),
        REDIS_READ_TIMEOUT_MS,
      );
      return {
        counts: new Map(
          QUEUE_NAMES.map((q, i) => [q, counts[i] as unknown as Record<string, number>]),
        ),
        paused: new Map(QUEUE_NAMES.map((q, i) => [q, paused[i]])),
      };
    } catch (error) {
      this.logger.warn(`Queue gauges not read from Redis: ${(error as Error).message}`);
      return undefined;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
