import { EnvBoolean } from './decorators';

export class SchedulerEnv {
  /** true: schedules run as Bull repeatable jobs, once per tick across instances; false: in-process cron. */
  @EnvBoolean()
  USE_DISTRIBUTED_SCHEDULER = true;
}
