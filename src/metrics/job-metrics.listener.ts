import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bull';
import { Counter, Histogram } from 'prom-client';
import { JOB_CONTRACTS, JobName, QUEUE_NAMES, QueueName } from '../queue';
import { QueueLifecycle } from '../queue/queue-lifecycle';
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
 *                sets finishedOn) the failed counter and the throughput;
 *   stalled   -> stalled counter (this process's stalled-job check moved a dead worker's job back).
 * Counters are per process: Prometheus sums them across the processes it scrapes.
 */
@Injectable()
export class JobMetricsListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly completed: Counter<'queue' | 'job'>;
  private readonly failed: Counter<'queue' | 'job'>;
  private readonly failedAttempts: Counter<'queue' | 'job'>;
  private readonly stalled: Counter<'queue'>;
  private readonly processing: Histogram<'queue' | 'job' | 'outcome'>;
  private readonly waiting: Histogram<'queue' | 'job'>;
  /**
   * The labelled series of each queue and job name, built once (label objects and keys).
   * prom-client still validates and hashes the labels on each observation (bench/: about 2.5% of
   * a no-op job's CPU).
   */
  private readonly series = new Map<QueueName, Map<string, JobSeries>>();

  constructor(
    private readonly queues: QueueRegistry,
    private readonly throughput: ThroughputStore,
    private readonly lifecycle: QueueLifecycle,
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
    this.stalled = new Counter({
      name: 'jobs_stalled_total',
      help: 'Active jobs this process found stalled (their worker stopped renewing the lock) and moved back to wait',
      labelNames: ['queue'],
      registers,
    });
    // At zero from the start: a stalled job is rare, and rate() needs the series before it.
    for (const queue of QUEUE_NAMES) this.stalled.labels({ queue }).inc(0);
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
   * Writes the last counts once the queues stopped (their last jobs finished, or were given up
   * at the shutdown deadline): QueueLifecycle.drain() is bounded. Redis closes after this phase.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.lifecycle.drain();
    await this.throughput.flush();
  }

  onApplicationBootstrap(): void {
    // Every known queue/job series at zero from the start: a failure-rate rule needs the
    // counters before the first failure (rate() cannot see the increment that creates a series).
    for (const [name, contract] of Object.entries(JOB_CONTRACTS)) {
      const series = this.seriesOf(contract.queue, { name } as Job);
      series.completed.inc(0);
      series.failed.inc(0);
      series.failedAttempts.inc(0);
    }
    for (const name of QUEUE_NAMES) {
      const queue = this.queues.get(name);
      queue.on('active', (job: Job) => this.onActive(name, job));
      queue.on('completed', (job: Job) => this.onFinished(name, job, 'completed'));
      queue.on('failed', (job: Job) => this.onFailed(name, job));
      queue.on('stalled', () => this.stalled.inc({ queue: name }));
    }
  }

  private onActive(queue: QueueName, job: Job): void {
    if (job.attemptsMade > 0) return;
    const startedAt = job.processedOn ?? Date.now();
    const dueAt = job.timestamp + (job.opts.delay ?? 0);
    this.seriesOf(queue, job).waiting.observe(Math.max(0, startedAt - dueAt) / 1000);
  }

  private onFailed(queue: QueueName, job: Job): void {
    const series = this.seriesOf(queue, job);
    series.failedAttempts.inc();
    // Bull sets finishedOn only when the job moves to `failed`; a retried attempt has none.
    if (job.finishedOn) this.onFinished(queue, job, 'failed', series);
    else this.observeProcessing(series, job, 'failed', Date.now());
  }

  private onFinished(
    queue: QueueName,
    job: Job,
    outcome: JobOutcome,
    series = this.seriesOf(queue, job),
  ): void {
    const finishedAt = job.finishedOn ?? Date.now();
    series[outcome].inc();
    this.observeProcessing(series, job, outcome, finishedAt);
    this.throughput.record(queue, outcome, finishedAt);
  }

  private observeProcessing(
    series: JobSeries,
    job: Job,
    outcome: JobOutcome,
    finishedAt: number,
  ): void {
    if (!job.processedOn) return;
    const seconds = Math.max(0, finishedAt - job.processedOn) / 1000;
    (outcome === 'completed' ? series.processingCompleted : series.processingFailed).observe(
      seconds,
    );
  }

  private seriesOf(queue: QueueName, job: Job): JobSeries {
    // Job names from other producers are free text: they share one label value (bounded).
    const name = KNOWN_JOBS.has(job.name) ? job.name : 'other';
    let ofQueue = this.series.get(queue);
    if (!ofQueue) {
      ofQueue = new Map();
      this.series.set(queue, ofQueue);
    }
    let series = ofQueue.get(name);
    if (!series) {
      const labels = { queue, job: name };
      series = {
        completed: this.completed.labels(labels),
        failed: this.failed.labels(labels),
        failedAttempts: this.failedAttempts.labels(labels),
        waiting: this.waiting.labels(labels),
        processingCompleted: this.processing.labels({ ...labels, outcome: 'completed' }),
        processingFailed: this.processing.labels({ ...labels, outcome: 'failed' }),
      };
      ofQueue.set(name, series);
    }
    return series;
  }
}

interface JobSeries {
  completed: Counter.Internal;
  failed: Counter.Internal;
  failedAttempts: Counter.Internal;
  waiting: Histogram.Internal<'queue' | 'job'>;
  processingCompleted: Histogram.Internal<'queue' | 'job' | 'outcome'>;
  processingFailed: Histogram.Internal<'queue' | 'job' | 'outcome'>;
}
