import { Injectable, Logger } from '@nestjs/common';
import { JobProducer } from '../queue';
import type { Schedule } from './schedule.definitions';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { missedTick, tickCorrelationId } from './scheduled-tick';
import { RepeatableJobs } from './repeatable-jobs';

/**
 * USE_DISTRIBUTED_SCHEDULER=true. At start, every instance upserts the schedules as Bull
 * repeatable jobs (removing stale ones); Bull then creates one job per tick, which exactly one
 * worker of the fleet runs. Nothing else runs in this process: the ticks arrive as jobs.
 */
@Injectable()
export class DistributedScheduler {
  private readonly logger = new Logger('Scheduler');

  constructor(
    private readonly catalog: ScheduleCatalog,
    private readonly repeatables: RepeatableJobs,
    private readonly runs: ScheduleRunRepository,
    private readonly producer: JobProducer,
  ) {}

  /** Returns a one-line summary for the start-up log. */
  async start(): Promise<string> {
    const plan = await this.repeatables.sync(this.catalog.enabled);
    for (const entry of plan.remove) {
      this.logger.log(`Removed stale repeatable job ${entry.key} (queue ${entry.queue})`);
    }
    for (const schedule of plan.cut) {
      this.logger.warn(
        `The repeatable of "${schedule.name}" had no job for its latest due tick (a worker died ` +
          `between taking a tick and scheduling the next): restarted` +
          (schedule.catchUp ? ', and its latest due tick caught up' : ''),
      );
    }
    const caughtUp = await this.catchUp(
      [...plan.missing, ...plan.cut].filter((schedule) => schedule.catchUp),
    );
    return (
      `${this.catalog.enabled.length} schedule(s) registered as repeatable jobs ` +
      `(${plan.missing.length} new, ${plan.cut.length} restarted, ${plan.remove.length} stale removed)` +
      (caughtUp.length > 0 ? `; catching up ${caughtUp.join(', ')}` : '')
    );
  }

  /**
   * A repeatable that survived an outage still holds its next tick's job in Redis: Bull runs it
   * as soon as a worker is back, and that is the catch-up. Only a schedule whose repeatable is
   * new (first start in this mode, a changed cron, Redis emptied) or whose chain was cut needs
   * one enqueued: the latest due tick, once, under a job ID every instance derives alike (so
   * concurrent starts add it once).
   */
  private async catchUp(schedules: readonly Schedule[]): Promise<string[]> {
    const caughtUp: string[] = [];
    for (const schedule of schedules) {
      const tickAt = missedTick(
        schedule.timing,
        await this.runs.latestTickAt(schedule.name),
        Date.now(),
      );
      if (tickAt === undefined) continue;
      await this.producer.enqueue(schedule.job, schedule.payload, {
        jobId: `catch-up:${schedule.name}:${tickAt}`,
        origin: `schedule ${schedule.name}`,
        correlationId: tickCorrelationId(schedule.name, tickAt),
        schedule: { name: schedule.name, trigger: 'catch-up', tickAt },
      });
      caughtUp.push(`${schedule.name} (tick ${new Date(tickAt).toISOString()})`);
    }
    return caughtUp;
  }
}
