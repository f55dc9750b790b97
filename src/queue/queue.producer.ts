import { Injectable } from '@nestjs/common';
import { Job, JobOptions, Queue } from 'bull';
import { CorrelationContext } from '../correlation';
import { TraceCarrier, traceEnqueue } from '../tracing';
import { CorrelationIndex } from './correlation-index';
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

/**
 * Every job enters Redis here. The job name picks the queue and the payload type, so a wrong
 * payload does not compile, and every job carries `meta` with the correlation ID of the request
 * or job that enqueued it.
 */
@Injectable()
export class JobProducer {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly correlation: CorrelationContext,
    private readonly correlationIndex: CorrelationIndex,
  ) {}

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    options: EnqueueOptions = {},
  ): Promise<Job<JobData<N>>> {
    const { origin, correlationId, schedule, ...jobOptions } = options;
    const contract = JOB_CONTRACTS[name];
    const trail = correlationId ?? this.correlation.currentOrNew();
    const job = await traceEnqueue(contract.queue, name, 1, (trace) =>
      this.queue(contract.queue).add(name, this.stamp(payload, origin, trail, schedule, trace), {
        ...contract.options,
        ...jobOptions,
      }),
    );
    await this.correlationIndex.record(trail, contract.queue, [job.id]);
    return job;
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
    // One correlation ID for the whole bulk (a fresh one outside any request or job), so the
    // bulk is one trail and one index write.
    const trail = correlationId ?? this.correlation.currentOrNew();
    const added = await traceEnqueue(contract.queue, name, jobs.length, (trace) =>
      this.queue(contract.queue).addBulk(
        jobs.map(({ payload, jobId }) => ({
          name,
          data: this.stamp(payload, origin, trail, schedule, trace),
          opts: { ...contract.options, ...jobOptions, ...(jobId ? { jobId } : {}) },
        })),
      ),
    );
    await this.correlationIndex.record(
      trail,
      contract.queue,
      added.map((job) => job.id),
    );
    return added;
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
