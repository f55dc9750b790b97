import { Module } from '@nestjs/common';
import { RepeatableJobs } from './repeatable-jobs';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { SchedulerState } from './scheduler-state';

/** What both the scheduler (workers) and its API (HTTP) read: schedules, runs, Redis state. */
@Module({
  providers: [ScheduleCatalog, ScheduleRunRepository, RepeatableJobs, SchedulerState],
  exports: [ScheduleCatalog, ScheduleRunRepository, RepeatableJobs, SchedulerState],
})
export class ScheduleCatalogModule {}
