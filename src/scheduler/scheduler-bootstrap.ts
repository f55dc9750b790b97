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
  ) {
    this.distributedMode = config.scheduler.distributed;
  }

  /**
   * Repeatables are added or removed before this process takes its first job (workers start in
   * onApplicationBootstrap): Bull re-adds a repeatable's key, non-atomically, when one of its
   * jobs moves to active, so a removal racing a local worker could resurrect a stale repeatable.
   */
  async onModuleInit(): Promise<void> {
    this.summary = this.distributedMode
      ? await this.distributed.start()
      : `${await this.legacy.removeRepeatables()} repeatable job(s) removed`;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.distributedMode) {
      this.distributed.watch();
      await this.state.report('distributed', INSTANCE_ID);
      this.logger.log(
        `Scheduler mode: distributed (USE_DISTRIBUTED_SCHEDULER=true, Bull repeatable jobs): ${this.summary}`,
      );
      return;
    }
    // Timers start once the job handlers they call are wired.
    const started = await this.legacy.start();
    await this.state.report('legacy', INSTANCE_ID);
    this.logger.log(
      'Scheduler mode: legacy (USE_DISTRIBUTED_SCHEDULER=false, in-process cron with a Redis lock ' +
        `per tick): ${started}, ${this.summary}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.distributed.stop();
    await this.legacy.stop();
  }
}
