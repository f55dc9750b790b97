import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { QUEUE_NAMES } from '../queue';
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

/**
 * Queue sizes, read from Redis when Prometheus scrapes (one MULTI per queue), so every API
 * instance reports the same, cluster-wide numbers whichever instance is scraped. Registered by
 * the HTTP roles only: a worker's metrics server would report the same numbers again.
 */
@Injectable()
export class QueueGauges {
  constructor(queues: QueueRegistry, metrics: MetricsRegistry) {
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs in each queue by state, read from Redis at scrape time',
      labelNames: ['queue', 'state'],
      registers: [metrics.registry],
      async collect() {
        const counts = await Promise.all(
          QUEUE_NAMES.map((name) => queues.get(name).getJobCounts()),
        );
        QUEUE_NAMES.forEach((queue, index) => {
          const byState = counts[index] as unknown as Record<string, number>;
          for (const state of JOB_STATES) this.set({ queue, state }, byState[state] ?? 0);
        });
      },
    });
    new Gauge({
      name: 'queue_paused',
      help: '1 while a queue is paused globally (POST /queues/:name/pause)',
      labelNames: ['queue'],
      registers: [metrics.registry],
      async collect() {
        const paused = await Promise.all(QUEUE_NAMES.map((name) => queues.get(name).isPaused()));
        QUEUE_NAMES.forEach((queue, index) => this.set({ queue }, paused[index] ? 1 : 0));
      },
    });
  }
}
