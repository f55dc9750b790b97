import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Job } from 'bull';
import { CorrelationContext } from '../correlation';
import { JobDispatcher, JobRunHook } from '../queue';
import { ScheduleCatalog } from './schedule-catalog';
import { INSTANCE_ID, isSuperseded, scheduledTickOf, tickCorrelationId } from './scheduled-tick';
import { TickRunner } from './tick-runner';

/**
 * Distributed mode's side of the tick wrapper, hooked into the job dispatcher: a queued job
 * that is a run of a schedule (repeatable tick, catch-up or manual run) goes through the
 * TickRunner, so it is recorded in schedule_runs and a second run of the same tick is refused.
 * Other jobs pass straight through.
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

  /**
   * A repeatable job's meta was stamped once, at registration: each tick gets its own ID
   * (the same one on a retry of that tick). Catch-up and manual runs keep the ID stamped when
   * they were enqueued (the request's, for a manual run).
   */
  correlationIdFor(job: Job): string | undefined {
    const tick = scheduledTickOf(job);
    return tick?.trigger === 'schedule' ? tickCorrelationId(tick.name, tick.tickAt) : undefined;
  }

  async around(job: Job, run: () => Promise<unknown>): Promise<unknown> {
    const tick = scheduledTickOf(job);
    if (!tick) return run();
    const schedule = this.catalog.find(tick.name);
    if (
      tick.trigger === 'schedule' &&
      schedule &&
      !schedule.catchUp &&
      isSuperseded(schedule.timing, tick.tickAt, Date.now())
    ) {
      const reason = 'missed tick (a later one is already due) and catch-up is off';
      this.logger.log(
        `Skipped tick ${new Date(tick.tickAt).toISOString()} of "${tick.name}": ${reason}`,
      );
      return { skipped: reason };
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
