import { EnvBoolean, EnvDuration } from './decorators';

export class SchedulerEnv {
  /** true: each schedule tick runs as one queued job, once across instances; false: in-process cron. */
  @EnvBoolean()
  USE_DISTRIBUTED_SCHEDULER = true;

  /**
   * How long schedule_runs rows are kept (the queue-cleanup schedule trims them). The latest run
   * of each schedule is always kept: catch-up reads it.
   */
  @EnvDuration(86_400_000)
  SCHEDULER_RUN_RETENTION = 7_776_000_000;
}
