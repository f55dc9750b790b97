import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { QueueWorkerModule } from '../queue';
import { DistributedScheduler } from './distributed-scheduler';
import { LegacyScheduler } from './legacy-scheduler';
import { ScheduleCatalogModule } from './schedule-catalog.module';
import { ScheduledJobHook } from './scheduled-job.hook';
import { SchedulerBootstrap } from './scheduler-bootstrap';
import { TickLock } from './tick-lock';
import { TickRunner } from './tick-runner';

/**
 * The scheduler, for the roles that process jobs (worker, all): see AppModule's WORKER list.
 * Distributed or legacy mode is picked at start by SchedulerBootstrap.
 */
@Module({
  imports: [ScheduleModule.forRoot(), QueueWorkerModule, ScheduleCatalogModule],
  providers: [
    TickRunner,
    TickLock,
    ScheduledJobHook,
    DistributedScheduler,
    LegacyScheduler,
    SchedulerBootstrap,
  ],
})
export class SchedulerModule {}
