import { Injectable, Logger } from '@nestjs/common';
import type { Schedule } from './schedule.definitions';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { latestTickAtOrBefore, nextTickAfter, ticksBetween } from './schedule-timing';
import { missedTick } from './scheduled-tick';
import { TickJobs } from './tick-jobs';

/** How often each worker makes sure every schedule's next tick has its job. */
const CHECK_MS = 1_000;
/**
 * Ticks this close are queued too (besides the next one), so a check that comes a little late
 * (a busy event loop) still finds a fast schedule's ticks queued.
 */
const LOOKAHEAD_MS = 2 * CHECK_MS;

/**
 * USE_DISTRIBUTED_SCHEDULER=true. The schedule lives in code and configuration, not in Redis:
 * every worker, at start and every CHECK_MS, makes sure the next tick of each enabled schedule
 * (and any other due within LOOKAHEAD_MS) has its job (delayed until the tick, under a job ID made of schedule and tick, so the fleet
 * adds it once) and, with catch-up on, that the latest due tick ran or has a job. Whatever Redis
 * loses (a FLUSHALL, a failover to a lagging replica) is therefore added again within a second,
 * by whichever worker looks first. The schedule_runs claim keeps each tick to one run.
 */
@Injectable()
export class DistributedScheduler {
  private readonly logger = new Logger('Scheduler');
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private failing = false;

  constructor(
    private readonly catalog: ScheduleCatalog,
    private readonly tickJobs: TickJobs,
    private readonly runs: ScheduleRunRepository,
  ) {}

  /** The first check; returns a one-line summary for the start-up log. */
  async start(): Promise<string> {
    const caughtUp = await this.check();
    return (
      `${this.catalog.enabled.length} schedule(s), next ticks queued` +
      (caughtUp.length > 0 ? `; catching up ${caughtUp.join(', ')}` : '')
    );
  }

  /** Checks every CHECK_MS until stop(); a failed check (Redis down) is retried the next time. */
  watch(): void {
    this.timer = setInterval(() => {
      this.checking ??= this.check()
        .then(() => {
          if (this.failing) this.logger.log('Schedule checks work again');
          this.failing = false;
        })
        .catch((error: Error) => {
          if (!this.failing) this.logger.warn(`Could not check the schedules: ${error.message}`);
          this.failing = true;
        })
        .finally(() => (this.checking = undefined));
    }, CHECK_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** One pass over the enabled schedules; returns the ticks it caught up. */
  private async check(now = Date.now()): Promise<string[]> {
    const caughtUp = await Promise.all(
      this.catalog.enabled.map(async (schedule) => {
        const soon = ticksBetween(schedule.timing, now, now + LOOKAHEAD_MS, 10);
        const ticks = soon.length > 0 ? soon : [nextTickAfter(schedule.timing, now)];
        for (const tickAt of ticks) await this.tickJobs.ensure(schedule, tickAt, 'schedule');
        const late = schedule.catchUp ? await this.catchUp(schedule, now) : undefined;
        if (late !== undefined) {
          this.logger.warn(
            `Tick ${new Date(late).toISOString()} of "${schedule.name}" had neither a run nor a ` +
              'job (no worker ran then, or Redis lost its jobs): enqueued to run once',
          );
        }
        return late === undefined
          ? []
          : [`${schedule.name} (tick ${new Date(late).toISOString()})`];
      }),
    );
    return caughtUp.flat();
  }

  /**
   * The latest due tick runs once if nothing stands for it: it has no job in Redis, and the
   * schedule's latest run is older, with no job pending for the tick after that run either
   * (such a job, still waiting after an outage, runs late: it is the catch-up). A schedule that
   * never ran is not caught up (a first deploy must not fire everything at once). Returns the
   * tick enqueued, if any.
   */
  private async catchUp(schedule: Schedule, now: number): Promise<number | undefined> {
    const due = latestTickAtOrBefore(schedule.timing, now);
    if (await this.tickJobs.exists(schedule, due)) return undefined;
    const latestRun = await this.runs.latestTickAt(schedule.name);
    const tickAt = missedTick(schedule.timing, latestRun, now);
    if (tickAt === undefined || latestRun === undefined) return undefined;
    const pending = nextTickAfter(schedule.timing, latestRun);
    if (pending < tickAt && (await this.tickJobs.exists(schedule, pending))) return undefined;
    return (await this.tickJobs.ensure(schedule, tickAt, 'catch-up')) ? tickAt : undefined;
  }
}
