import { JobId, JobOptions } from 'bull';
import type { TraceCarrier } from '../tracing';
import {
  AnalyticsDailyStatsJob,
  ExportPayoutsJob,
  NotificationPayoutJob,
  PayoutCycleJob,
  PayoutPayPayeeJob,
  PayoutProcessJob,
  PayoutReconcileJob,
  QueueCleanupJob,
  RedisLossCheckJob,
} from './job-payloads';
import { JobName, QueueName } from './queue-names';

export interface JobContract<P> {
  queue: QueueName;
  payload: new () => P;
  /** Overrides of the queue's default job options for this job. */
  options?: JobOptions;
}

function contract<P>(definition: JobContract<P>): JobContract<P> {
  return definition;
}

/** The single map from job name to its queue, payload class and options. */
export const JOB_CONTRACTS = {
  // JOB_ATTEMPTS like any job: a rerun resumes (see PayoutCycleService), so retrying through a
  // database blip is safe.
  [JobName.PayoutCycle]: contract({ queue: QueueName.Payouts, payload: PayoutCycleJob }),
  [JobName.PayoutPayPayee]: contract({ queue: QueueName.Payouts, payload: PayoutPayPayeeJob }),
  [JobName.PayoutProcess]: contract({ queue: QueueName.Payouts, payload: PayoutProcessJob }),
  [JobName.PayoutReconcile]: contract({
    queue: QueueName.Payouts,
    payload: PayoutReconcileJob,
    options: { attempts: 1 },
  }),
  [JobName.AnalyticsDailyStats]: contract({
    queue: QueueName.Analytics,
    payload: AnalyticsDailyStatsJob,
  }),
  [JobName.QueueCleanup]: contract({
    queue: QueueName.Analytics,
    payload: QueueCleanupJob,
    options: { attempts: 1 },
  }),
  [JobName.RedisLossCheck]: contract({
    queue: QueueName.Analytics,
    payload: RedisLossCheckJob,
    options: { attempts: 1 },
  }),
  [JobName.NotificationPayout]: contract({
    queue: QueueName.Notifications,
    payload: NotificationPayoutJob,
  }),
  [JobName.ExportPayouts]: contract({
    queue: QueueName.Exports,
    payload: ExportPayoutsJob,
    options: { attempts: 2 },
  }),
} satisfies { [N in JobName]: JobContract<object> };

/** Job name -> payload type, derived from the contracts. */
export type JobPayload<N extends JobName> =
  (typeof JOB_CONTRACTS)[N] extends JobContract<infer P> ? P : never;

/** How a scheduled run started: its regular tick, a catch-up after downtime, or by hand. */
export type ScheduleTrigger = 'schedule' | 'catch-up' | 'manual';

/** Marks a job as a run of a schedule (see src/scheduler), so its run is recorded once per tick. */
export interface ScheduledRunMeta {
  name: string;
  trigger: ScheduleTrigger;
  /** The tick this run stands for (epoch ms). */
  tickAt: number;
}

/** Stamped by the producer into every job's data. */
export interface JobMeta {
  correlationId: string;
  enqueuedAt: number;
  /** What enqueued it: `http POST /payouts/cycle`, `job payouts/payout.cycle#42`, `schedule payout-cycle`, `cli`. */
  origin: string;
  schedule?: ScheduledRunMeta;
  /** W3C trace context of the enqueue's span, when tracing is on: the run continues that trace. */
  trace?: TraceCarrier;
}

export type JobData<N extends JobName> = JobPayload<N> & { meta: JobMeta };

/**
 * The part of a job a handler may use. A Bull `Job` satisfies it; the legacy scheduler mode runs
 * the handlers of scheduled jobs in-process with a plain object of this shape (no Redis behind
 * it), so those handlers must use nothing else.
 */
export interface JobLike<N extends JobName = JobName> {
  readonly id: JobId;
  readonly name: string;
  readonly data: JobData<N>;
  readonly opts: JobOptions;
  readonly attemptsMade: number;
  readonly timestamp: number;
  progress(value: number | object): Promise<void>;
}

export function jobsOfQueue(queue: QueueName): JobName[] {
  return (Object.keys(JOB_CONTRACTS) as JobName[]).filter(
    (name) => JOB_CONTRACTS[name].queue === queue,
  );
}
