import { Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { validateSync } from 'class-validator';
import { Job } from 'bull';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../config';
import { CorrelationContext, isSafeCorrelationId } from '../../correlation';
import { traceJobRun } from '../../tracing';
import {
  JOB_CONTRACTS,
  JobData,
  JobLike,
  JobMeta,
  JobPayload,
  jobsOfQueue,
} from '../job-contracts';
import { JobName, QUEUE_NAMES, QueueName } from '../queue-names';
import { QueueRegistry } from '../queue-registry';
import { ActiveJobs } from '../active-jobs';
import { JOB_HANDLER, QUEUE_PROCESSOR } from './job-handler.decorators';
import { PermanentJobError } from './permanent-job-error';

type Handler = (job: JobLike) => Promise<unknown>;

const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * Runs around every queued job's handler, inside its CLS context and after its payload was
 * checked. A feature registers one at init (the scheduler records and dedupes its ticks so).
 */
export interface JobRunHook {
  around(job: Job, run: () => Promise<unknown>): Promise<unknown>;
}

/** Identity of a handler run in-process (see runInline). */
export interface InlineRun {
  /** Stands in for the job ID in logs and in the job object the handler sees. */
  runId: string;
  correlationId: string;
  origin: string;
  schedule?: JobMeta['schedule'];
}

/**
 * Wires the @QueueProcessor providers to Bull: one `process('*')` per queue at the configured
 * concurrency, dispatching by job name. Every job runs inside a CLS context restored from its
 * `meta`, after its payload has been checked against its contract.
 * Boot fails when a job name has no handler, or two.
 */
@Injectable()
export class JobDispatcher implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');
  private readonly handlers = new Map<JobName, Handler>();
  private readonly hooks: JobRunHook[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly queues: QueueRegistry,
    private readonly correlation: CorrelationContext,
    private readonly config: AppConfig,
    private readonly activeJobs: ActiveJobs,
  ) {}

  /** Handlers are collected before any module starts (the legacy scheduler may run one at start). */
  onModuleInit(): void {
    this.collectHandlers();
  }

  /** Registers a hook around every queued job; call it from onModuleInit, before jobs flow. */
  addHook(hook: JobRunHook): void {
    this.hooks.push(hook);
  }

  /**
   * Runs the handler registered for `name` in this process, with no queue and no Redis: the
   * legacy scheduler mode calls the same task code as the queued job this way. The payload is
   * checked against its contract first, and the handler runs in a fresh CLS context. Hooks do
   * not apply (the caller owns the run) and nothing retries: a failure is the caller's to report.
   */
  async runInline<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    run: InlineRun,
  ): Promise<unknown> {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`No handler for job "${name}" in this process`);
    const meta: JobMeta = {
      correlationId: run.correlationId,
      enqueuedAt: Date.now(),
      origin: run.origin,
      ...(run.schedule ? { schedule: run.schedule } : {}),
    };
    const job: JobLike<N> = {
      id: run.runId,
      name,
      data: { ...(payload as object), meta } as JobData<N>,
      opts: {},
      attemptsMade: 0,
      timestamp: meta.enqueuedAt,
      // Progress of an in-process run has no one to report to.
      progress: async () => undefined,
    };
    this.checkPayload(job);
    const queue = JOB_CONTRACTS[name].queue;
    const identity = { queue, jobName: name, jobId: run.runId, attempt: 1 };
    const store = { correlationId: run.correlationId, origin: run.origin, job: identity };
    return traceJobRun(identity, run.correlationId, undefined, () =>
      this.correlation.run(store, () => handler(job)),
    );
  }

  onApplicationBootstrap(): void {
    for (const queueName of QUEUE_NAMES) {
      const queue = this.queues.get(queueName);
      const concurrency = this.config.concurrencyFor(queueName);
      // process() resolves only when the queue closes; errors surface through the logger.
      queue
        .process('*', concurrency, (job: Job) =>
          this.activeJobs.track(queueName, job, () => this.run(queueName, job)),
        )
        .catch((error: Error) =>
          this.logger.error(`Queue ${queueName} stopped processing: ${error.message}`),
        );
      this.logger.log(`Processing queue ${queueName} (concurrency ${concurrency})`);
    }
  }

  private collectHandlers(): void {
    const problems: string[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const queue = this.reflector.get<QueueName | undefined>(QUEUE_PROCESSOR, metatype);
      if (!queue) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = (prototype as Record<string, unknown>)[method] as (
          ...args: unknown[]
        ) => unknown;
        const name = this.reflector.get<JobName | undefined>(JOB_HANDLER, target);
        if (!name) continue;
        const where = `${metatype.name}.${method}`;
        if (JOB_CONTRACTS[name].queue !== queue) {
          problems.push(
            `${where} handles "${name}", which belongs to queue "${JOB_CONTRACTS[name].queue}", not "${queue}".`,
          );
        } else if (this.handlers.has(name)) {
          problems.push(
            `Job "${name}" has two handlers (${where} is the second): keep exactly one.`,
          );
        } else {
          this.handlers.set(name, (job) => Promise.resolve(target.call(instance, job)));
        }
      }
    }
    for (const queue of QUEUE_NAMES) {
      for (const name of jobsOfQueue(queue).filter((n) => !this.handlers.has(n))) {
        problems.push(
          `Job "${name}" (queue "${queue}") has no handler: decorate a method with @JobHandler(...) ` +
            `in a @QueueProcessor(...) provider of a module the worker imports.`,
        );
      }
    }
    if (problems.length > 0)
      throw new Error(`Job handlers are not wired correctly:\n  - ${problems.join('\n  - ')}`);
  }

  /** One attempt of a job: its span (continuing the trace in its meta), then its CLS context. */
  private run(queue: QueueName, job: Job): Promise<unknown> {
    const meta = readMeta(job.data);
    const store = {
      correlationId: meta?.correlationId ?? randomUUID(),
      origin: `job ${queue}/${job.name}#${job.id}`,
      job: { queue, jobName: job.name, jobId: String(job.id), attempt: job.attemptsMade + 1 },
    };
    return traceJobRun(store.job, store.correlationId, meta?.trace, () =>
      this.correlation.run(store, () => this.handle(job)),
    );
  }

  /**
   * The handler's promise with its outcome logged, chained rather than awaited in an async
   * function: one promise and one microtask less per job. A failure before the handler starts
   * (no handler, a payload refused) still rejects, never throws, as an async function would.
   */
  private handle(job: Job): Promise<unknown> {
    let outcome: Promise<unknown>;
    try {
      const handler = this.handlers.get(job.name as JobName);
      if (!handler)
        throw new PermanentJobError(`No handler for job name "${job.name}" in this queue`);
      this.checkPayload(job);
      outcome =
        this.hooks.length === 0
          ? handler(job)
          : this.hooks.reduceRight<() => Promise<unknown>>(
              (next, hook) => () => hook.around(job, next),
              () => handler(job),
            )();
    } catch (error) {
      return this.failed(job, error);
    }
    return outcome.then(
      (result) => {
        this.logger.debug(`Job done`);
        return result;
      },
      (error: unknown) => this.failed(job, error),
    );
  }

  private failed(job: Job, error: unknown): Promise<never> {
    const permanent = error instanceof PermanentJobError;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    // discard() tells Bull not to retry, whatever attempts remain.
    if (permanent) job.discard();
    this.logger.warn(
      `Job failed${permanent ? ' permanently' : lastAttempt ? ' (no attempts left)' : ', will retry'}: ${(error as Error).message}`,
    );
    return Promise.reject(error as Error);
  }

  private checkPayload(job: JobLike): void {
    const contract = JOB_CONTRACTS[job.name as JobName];
    if (typeof job.data !== 'object' || job.data === null || Array.isArray(job.data)) {
      throw new PermanentJobError(`Invalid data for job "${job.name}": expected an object`);
    }
    // Copied onto the instance below, these would replace its prototype or constructor, which
    // is how class-validator finds the payload's rules.
    const reserved = RESERVED_KEYS.find((key) => Object.hasOwn(job.data as object, key));
    if (reserved) {
      throw new PermanentJobError(
        `Invalid data for job "${job.name}": a property named "${reserved}" is not allowed`,
      );
    }
    // The data's own properties on an instance of the payload class, which is all class-validator
    // reads (payload classes are flat, see job-payloads.ts). plainToInstance deep-copied the data,
    // meta included, and the async validate() added promises: together 9% of a no-op job's CPU.
    const payload = Object.assign(
      Object.create((contract.payload as new () => object).prototype) as object,
      job.data,
    );
    const errors = validateSync(payload);
    if (errors.length > 0) {
      const details = errors.map(
        (e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`,
      );
      throw new PermanentJobError(`Invalid data for job "${job.name}": ${details.join('; ')}`);
    }
  }
}

function readMeta(data: unknown): JobMeta | undefined {
  const meta = (data as { meta?: Partial<JobMeta> } | null)?.meta;
  // Data written by another producer is untrusted: only a sane ID is carried on into logs.
  return meta && isSafeCorrelationId(meta.correlationId) ? (meta as JobMeta) : undefined;
}
