import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Job } from 'bull';
import { CorrelationContext } from '../correlation';
import { JobDispatcher, JobRunHook } from '../queue';
import { ScheduleCatalog } from './schedule-catalog';
import { latestTickAtOrBefore } from './schedule-timing';
import {
  INSTANCE_ID,
  isSuperseded,
  ScheduledTick,
  scheduledTickOf,
  tickCorrelationId,
} from './scheduled-tick';
import type { Schedule } from './schedule.definitions';
import { TickRunner } from './tick-runner';

/**
 * Distributed mode's side of the tick wrapper, hooked into the job dispatcher: a queued job
 * that is a run of a schedule (tick, catch-up or manual run) goes through the TickRunner, so it
 * is recorded in schedule_runs and a second run of the same tick is refused. Other jobs pass
 * straight through.
 */
@Injectable()
export class ScheduledJobHook implements JobRunHook, OnModuleInit {
  private readonly logger = new Logger('Scheduler');

  constructor(
    private readonly dispatcher: JobDispatcher,
    private readonly runner: TickRunner,
    private readonly catalog: ScheduleCatalog,
    private readonly correlation: CorrelationContext,
  ) {}

  onModuleInit(): void {
    this.dispatcher.addHook(this);
  }

  async around(job: Job, run: () => Promise<unknown>): Promise<unknown> {
    const tick = scheduledTickOf(job);
    if (!tick) return run();
    const skip = skipReason(tick, this.catalog.find(tick.name), Date.now());
    if (skip) {
      this.logger.log(
        `Skipped tick ${new Date(tick.tickAt).toISOString()} of "${tick.name}": ${skip}`,
      );
      return { skipped: skip };
    }
    const outcome = await this.runner.run(
      {
        schedule: tick.name,
        tickAt: tick.tickAt,
        trigger: tick.trigger,
        runner: 'queue',
        jobId: String(job.id),
        instance: INSTANCE_ID,
        correlationId: this.correlation.id ?? tickCorrelationId(tick.name, tick.tickAt),
      },
      run,
    );
    // A refused duplicate completes (no retry): the tick ran, elsewhere.
    return outcome.ran ? outcome.result : { skipped: outcome.reason };
  }
}

/**
 * Why a tick's job, queued earlier, no longer stands for a tick to run: its schedule was since
 * disabled or re-timed (tick jobs are queued a tick ahead), or it is late past the next tick with
 * catch-up off. Manual runs always run.
 */
function skipReason(tick: ScheduledTick, schedule: Schedule | undefined, now: number) {
  if (tick.trigger === 'manual') return undefined;
  if (!schedule?.enabled) return 'the schedule is no longer enabled';
  if (latestTickAtOrBefore(schedule.timing, tick.tickAt) !== tick.tickAt) {
    return 'no longer a tick of the schedule (its timing changed)';
  }
  if (
    tick.trigger === 'schedule' &&
    !schedule.catchUp &&
    isSuperseded(schedule.timing, tick.tickAt, now)
  ) {
    return 'missed tick (a later one is already due) and catch-up is off';
  }
  return undefined;
}
