import { Injectable } from '@nestjs/common';
import { CronRepeatOptions, EveryRepeatOptions, Job, JobOptions, Queue } from 'bull';
import { CorrelationContext } from '../correlation';
import { TraceCarrier, traceEnqueue } from '../tracing';
import { JOB_CONTRACTS, JobData, JobMeta, JobPayload, ScheduledRunMeta } from './job-contracts';
import { JobName, QueueName } from './queue-names';
import { QueueRegistry } from './queue-registry';

export interface EnqueueOptions
  extends Pick<JobOptions, 'jobId' | 'delay' | 'priority' | 'attempts'> {
  /** Overrides the origin taken from the current context (the scheduler names its schedule). */
  origin?: string;
  /** Overrides the current correlation ID (the scheduler gives each tick a fresh one). */
  correlationId?: string;
  /** Marks the job as a run of a schedule (set by the scheduler and its API only). */
  schedule?: ScheduledRunMeta;
}

/** A Bull repeatable job: when it ticks, and the job ID that names it inside its repeat key. */
export interface RepeatableOptions {
  repeat: Pick<CronRepeatOptions, 'cron' | 'tz'> | Pick<EveryRepeatOptions, 'every'>;
  jobId: string;
  origin: string;
  schedule: ScheduledRunMeta;
}

/**
 * Every job enters Redis here. The job name picks the queue and the payload type, so a wrong
 * payload does not compile, and every job carries `meta` with the correlation ID of the request
 * or job that enqueued it, and (when tracing is on) the trace context of the enqueue's span.
 */
@Injectable()
export class JobProducer {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly correlation: CorrelationContext,
  ) {}

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    options: EnqueueOptions = {},
  ): Promise<Job<JobData<N>>> {
    const { origin, correlationId, schedule, ...jobOptions } = options;
    const contract = JOB_CONTRACTS[name];
    return traceEnqueue(contract.queue, name, 1, (trace) =>
      this.queue(contract.queue).add(
        name,
        this.stamp(payload, origin, correlationId, schedule, trace),
        {
          ...contract.options,
          ...jobOptions,
        },
      ),
    );
  }

  /**
   * Registers a Bull repeatable job (idempotent: Bull keys it by name, job ID and cron or
   * interval, and names each tick's job after its tick, so instances adding it at once create
   * one job per tick). Its data, meta included, is written once, here: see JobDispatcher for
   * how each tick still gets its own correlation ID. No trace context either: each tick starts
   * its own trace rather than joining the one that registered the schedule.
   */
  async repeat<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    { repeat, jobId, origin, schedule }: RepeatableOptions,
  ): Promise<Job<JobData<N>>> {
    const contract = JOB_CONTRACTS[name];
    return this.queue(contract.queue).add(name, this.stamp(payload, origin, undefined, schedule), {
      ...contract.options,
      repeat,
      jobId,
    });
  }

  /** One round trip for many jobs of one name (the payout cycle enqueues thousands). */
  async enqueueBulk<N extends JobName>(
    name: N,
    jobs: Array<{ payload: JobPayload<N>; jobId?: string }>,
    options: Omit<EnqueueOptions, 'jobId'> = {},
  ): Promise<Array<Job<JobData<N>>>> {
    if (jobs.length === 0) return [];
    const { origin, correlationId, schedule, ...jobOptions } = options;
    const contract = JOB_CONTRACTS[name];
    return traceEnqueue(contract.queue, name, jobs.length, (trace) =>
      this.queue(contract.queue).addBulk(
        jobs.map(({ payload, jobId }) => ({
          name,
          data: this.stamp(payload, origin, correlationId, schedule, trace),
          opts: { ...contract.options, ...jobOptions, ...(jobId ? { jobId } : {}) },
        })),
      ),
    );
  }

  queue(name: QueueName): Queue {
    return this.queues.get(name);
  }

  private stamp<P>(
    payload: P,
    origin?: string,
    correlationId?: string,
    schedule?: ScheduledRunMeta,
    trace?: TraceCarrier,
  ): P & { meta: JobMeta } {
    const meta: JobMeta = {
      correlationId: correlationId ?? this.correlation.currentOrNew(),
      enqueuedAt: Date.now(),
      origin: origin ?? this.correlation.origin ?? 'unknown',
      ...(schedule ? { schedule } : {}),
      ...(trace ? { trace } : {}),
    };
    return { ...payload, meta };
  }
}
