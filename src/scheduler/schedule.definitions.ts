import { AppConfig } from '../config';
import { JOB_CONTRACTS, JobName, JobPayload, QueueName } from '../queue';

/** When a schedule ticks: a cron expression in a time zone, or an interval (ticks at multiples of it since the epoch, as Bull does). */
export type ScheduleTiming =
  | { kind: 'cron'; cron: string; timeZone: string }
  | { kind: 'every'; everyMs: number };

export interface ScheduleDefinition<N extends JobName = JobName> {
  /**
   * Stable name: it keys the repeatable job in Redis, the runs in schedule_runs, the API path
   * and the SCHEDULE_<NAME>_* variables. Renaming one drops its history.
   */
  name: string;
  description: string;
  /** The job each tick enqueues; its queue and options come from its contract. */
  job: N;
  payload: JobPayload<N>;
  timing: ScheduleTiming;
  enabled: boolean;
  /** On start, run once when the latest due tick has no run (see docs/scheduler.md). */
  catchUp: boolean;
}

/** A schedule after env overrides, as every part of the scheduler sees it. */
export type Schedule = Readonly<ScheduleDefinition> & { readonly queue: QueueName };

function define<N extends JobName>(definition: ScheduleDefinition<N>): ScheduleDefinition {
  return definition;
}

const UTC = 'UTC';

/**
 * THE list of schedules: the only place a schedule is declared. Each field of each schedule can
 * be overridden from the environment (SCHEDULE_<NAME>_CRON, _EVERY, _TZ, _ENABLED, _CATCH_UP;
 * see schedule-overrides.ts).
 */
export function declareSchedules(config: AppConfig): ScheduleDefinition[] {
  return [
    define({
      name: 'payout-cycle',
      description: 'Creates and enqueues the payouts of every payee whose balance is due',
      job: JobName.PayoutCycle,
      payload: { trigger: 'schedule' },
      timing: { kind: 'cron', cron: '0 * * * *', timeZone: UTC },
      enabled: true,
      catchUp: true,
    }),
    define({
      name: 'payout-reconcile',
      description: 'Re-enqueues payouts stuck in pending or processing beyond their deadline',
      job: JobName.PayoutReconcile,
      payload: { trigger: 'schedule' },
      timing: { kind: 'cron', cron: '*/5 * * * *', timeZone: UTC },
      enabled: true,
      catchUp: true,
    }),
    define({
      name: 'analytics-daily-stats',
      description: "Recomputes yesterday's and today's payout statistics",
      job: JobName.AnalyticsDailyStats,
      payload: {},
      timing: { kind: 'cron', cron: '15 0 * * *', timeZone: UTC },
      enabled: true,
      catchUp: true,
    }),
    define({
      name: 'queue-cleanup',
      description:
        'Trims completed jobs to COMPLETED_JOB_RETENTION and failed jobs older than FAILED_JOB_RETENTION',
      job: JobName.QueueCleanup,
      payload: { trigger: 'schedule' },
      timing: { kind: 'every', everyMs: config.queue.cleanupIntervalMs },
      enabled: true,
      catchUp: true,
    }),
    define({
      name: 'redis-loss-check',
      description:
        'Finds out whether Redis lost data (failover, flush, restart) and re-enqueues the jobs PostgreSQL still owes',
      job: JobName.RedisLossCheck,
      payload: { trigger: 'schedule' },
      timing: { kind: 'every', everyMs: 10_000 },
      enabled: true,
      catchUp: false,
    }),
  ];
}

export function withQueue(definition: ScheduleDefinition): Schedule {
  return Object.freeze({ ...definition, queue: JOB_CONTRACTS[definition.job].queue });
}
