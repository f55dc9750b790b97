import { Module } from '@nestjs/common';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { SchedulerState } from './scheduler-state';
import { TickJobs } from './tick-jobs';

/** What both the scheduler (workers) and its API (HTTP) read: schedules, runs, Redis state. */
@Module({
  providers: [ScheduleCatalog, ScheduleRunRepository, TickJobs, SchedulerState],
  exports: [ScheduleCatalog, ScheduleRunRepository, TickJobs, SchedulerState],
})
export class ScheduleCatalogModule {}
