import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '../config';
import { DistributedScheduler } from './distributed-scheduler';
import { LegacyScheduler } from './legacy-scheduler';
import { INSTANCE_ID } from './scheduled-tick';
import { SchedulerState } from './scheduler-state';
import { TickJobs } from './tick-jobs';

/** The one place the scheduler mode is chosen (USE_DISTRIBUTED_SCHEDULER), and logged. */
@Injectable()
export class SchedulerBootstrap
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Scheduler');
  private readonly distributedMode: boolean;
  private summary = '';

  constructor(
    config: AppConfig,
    private readonly distributed: DistributedScheduler,
    private readonly legacy: LegacyScheduler,
    private readonly state: SchedulerState,
    private readonly tickJobs: TickJobs,
  ) {
    this.distributedMode = config.scheduler.distributed;
  }

  /**
   * Before this process takes its first job (workers start in onApplicationBootstrap): Bull
   * re-adds a repeatable's key when one of its jobs starts, so removing the repeatables an
   * earlier version registered must not race a local worker.
   */
  async onModuleInit(): Promise<void> {
    const removed = await this.tickJobs.removeRepeatables();
    if (removed > 0) this.logger.log(`Removed ${removed} repeatable job(s) of an earlier version`);
    if (this.distributedMode) this.summary = await this.distributed.start();
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.distributedMode) {
      this.distributed.watch();
      await this.state.report('distributed', INSTANCE_ID);
      this.logger.log(
        `Scheduler mode: distributed (USE_DISTRIBUTED_SCHEDULER=true, one queued job per tick): ${this.summary}`,
      );
      return;
    }
    // Timers start once the job handlers they call are wired.
    const started = await this.legacy.start();
    await this.state.report('legacy', INSTANCE_ID);
    this.logger.log(
      'Scheduler mode: legacy (USE_DISTRIBUTED_SCHEDULER=false, in-process cron with a Redis lock ' +
        `per tick): ${started}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.distributed.stop();
    await this.legacy.stop();
  }
}
