import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bull';
import { Counter, Histogram } from 'prom-client';
import { JobName, QUEUE_NAMES, QueueName } from '../queue';
import { QueueRegistry } from '../queue/queue-registry';
import { MetricsRegistry } from './metrics.registry';
import { JobOutcome, ThroughputStore } from './throughput.store';

const KNOWN_JOBS = new Set<string>(Object.values(JobName));
/** Seconds: from a few milliseconds (notifications) to the 5-minute job timeout (exports). */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/**
 * Job metrics of this worker process, from Bull's local events (the dispatcher is not touched):
 *   active    -> wait time (enqueued, or due when delayed, until a worker took it; first attempts only,
 *                since a retry's wait is mostly its backoff);
 *   completed -> completed counter, processing time, the shared per-minute throughput in Redis
 *                (counted in memory, written once a second and after the queues closed);
 *   failed    -> failed-attempt counter, processing time; and when no retry follows (Bull then
 *                sets finishedOn) the failed counter and the throughput.
 * Counters are per process: Prometheus sums them across the processes it scrapes.
 */
@Injectable()
export class JobMetricsListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly completed: Counter<'queue' | 'job'>;
  private readonly failed: Counter<'queue' | 'job'>;
  private readonly failedAttempts: Counter<'queue' | 'job'>;
  private readonly processing: Histogram<'queue' | 'job' | 'outcome'>;
  private readonly waiting: Histogram<'queue' | 'job'>;

  constructor(
    private readonly queues: QueueRegistry,
    private readonly throughput: ThroughputStore,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    const labelNames = ['queue', 'job'] as const;
    this.completed = new Counter({
      name: 'jobs_completed_total',
      help: 'Jobs this process completed',
      labelNames,
      registers,
    });
    this.failed = new Counter({
      name: 'jobs_failed_total',
      help: 'Jobs that failed for good in this process (no attempts left, or a permanent error)',
      labelNames,
      registers,
    });
    this.failedAttempts = new Counter({
      name: 'job_attempts_failed_total',
      help: 'Failed attempts in this process, retried ones included',
      labelNames,
      registers,
    });
    this.processing = new Histogram({
      name: 'job_processing_seconds',
      help: 'Time from a worker taking a job to the attempt finishing (processedOn to finishedOn)',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.waiting = new Histogram({
      name: 'job_wait_seconds',
      help: 'Time from enqueue (or the end of its delay) to a worker taking the job, first attempts',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
  }

  /**
   * Writes the last counts once the queues are closed (their last jobs finished): Bull returns
   * the close that QueueLifecycle started, or starts it. Redis closes after this phase.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.all().map((queue) => queue.close().catch(() => undefined)));
    await this.throughput.flush();
  }

  onApplicationBootstrap(): void {
    for (const name of QUEUE_NAMES) {
      const queue = this.queues.get(name);
      queue.on('active', (job: Job) => this.onActive(name, job));
      queue.on('completed', (job: Job) => this.onFinished(name, job, 'completed'));
      queue.on('failed', (job: Job) => this.onFailed(name, job));
    }
  }

  private onActive(queue: QueueName, job: Job): void {
    if (job.attemptsMade > 0) return;
    const startedAt = job.processedOn ?? Date.now();
    const dueAt = job.timestamp + (job.opts.delay ?? 0);
    this.waiting.observe(labels(queue, job), Math.max(0, startedAt - dueAt) / 1000);
  }

  private onFailed(queue: QueueName, job: Job): void {
    this.failedAttempts.inc(labels(queue, job));
    // Bull sets finishedOn only when the job moves to `failed`; a retried attempt has none.
    if (job.finishedOn) this.onFinished(queue, job, 'failed');
    else this.observeProcessing(queue, job, 'failed', Date.now());
  }

  private onFinished(queue: QueueName, job: Job, outcome: JobOutcome): void {
    const finishedAt = job.finishedOn ?? Date.now();
    (outcome === 'completed' ? this.completed : this.failed).inc(labels(queue, job));
    this.observeProcessing(queue, job, outcome, finishedAt);
    this.throughput.record(queue, outcome, finishedAt);
  }

  private observeProcessing(
    queue: QueueName,
    job: Job,
    outcome: JobOutcome,
    finishedAt: number,
  ): void {
    if (!job.processedOn) return;
    this.processing.observe(
      { ...labels(queue, job), outcome },
      Math.max(0, finishedAt - job.processedOn) / 1000,
    );
  }
}

/** Job names from other producers are free text: they share one label value to bound cardinality. */
function labels(queue: QueueName, job: Job): { queue: QueueName; job: string } {
  return { queue, job: KNOWN_JOBS.has(job.name) ? job.name : 'other' };
}
