import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { declareSchedules, Schedule, withQueue } from './schedule.definitions';
import { applyOverrides } from './schedule-overrides';

/**
 * The schedules of this deployment: the declared list with its env overrides applied. Built
 * once, at start; an invalid schedule (a bad cron, an unknown SCHEDULE_* variable) throws a
 * ConfigError here, which stops start-up with the list of problems.
 */
@Injectable()
export class ScheduleCatalog {
  readonly all: readonly Schedule[];

  constructor(config: AppConfig) {
    this.all = Object.freeze(applyOverrides(declareSchedules(config), config.raw).map(withQueue));
  }

  get enabled(): Schedule[] {
    return this.all.filter((schedule) => schedule.enabled);
  }

  find(name: string): Schedule | undefined {
    return this.all.find((schedule) => schedule.name === name);
  }
}
