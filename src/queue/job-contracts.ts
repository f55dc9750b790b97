import { JobOptions } from 'bull';
import {
  AnalyticsDailyStatsJob,
  ExportPayoutsJob,
  NotificationPayoutJob,
  PayoutCycleJob,
  PayoutPayPayeeJob,
  PayoutProcessJob,
  PayoutReconcileJob,
  QueueCleanupJob,
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
  [JobName.PayoutCycle]: contract({
    queue: QueueName.Payouts,
    payload: PayoutCycleJob,
    options: { attempts: 3 },
  }),
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

/** Stamped by the producer into every job's data. */
export interface JobMeta {
  correlationId: string;
  enqueuedAt: number;
  /** What enqueued it: `http POST /payouts/cycle`, `job payouts/payout.cycle#42`, `schedule payout-cycle`, `cli`. */
  origin: string;
}

export type JobData<N extends JobName> = JobPayload<N> & { meta: JobMeta };

export function jobsOfQueue(queue: QueueName): JobName[] {
  return (Object.keys(JOB_CONTRACTS) as JobName[]).filter(
    (name) => JOB_CONTRACTS[name].queue === queue,
  );
}
