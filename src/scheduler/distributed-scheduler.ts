import { Injectable, Logger } from '@nestjs/common';
import { JobProducer } from '../queue';
import type { Schedule } from './schedule.definitions';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { ticksBetween } from './schedule-timing';
import { missedTick, tickCorrelationId } from './scheduled-tick';
import { CutChain, RepeatableJobs } from './repeatable-jobs';

/** How often a worker looks for repeatables whose chain a dying worker cut. */
const CHAIN_CHECK_MS = 2_000;
/** At most this many skipped ticks of a cut chain are run late (the latest ones). */
const MAX_SKIPPED_TICKS = 60;

/**
 * USE_DISTRIBUTED_SCHEDULER=true. At start, every instance upserts the schedules as Bull
 * repeatable jobs (removing stale ones); Bull then creates one job per tick, which exactly one
 * worker of the fleet runs. The ticks arrive as jobs; this process only repairs what Bull does
 * not: a chain cut by a worker dying between taking a tick and scheduling the next (see
 * RepeatableJobs.findCutChains), at start and every CHAIN_CHECK_MS.
 */
@Injectable()
export class DistributedScheduler {
  private readonly logger = new Logger('Scheduler');
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

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
    await this.runSkippedTicks(plan.cut, plan.addedAt);
    const caughtUp = await this.catchUp(plan.missing.filter((schedule) => schedule.catchUp));
    return (
      `${this.catalog.enabled.length} schedule(s) registered as repeatable jobs ` +
      `(${plan.missing.length} new, ${plan.cut.length} restarted, ${plan.remove.length} stale removed)` +
      (caughtUp.length > 0 ? `; catching up ${caughtUp.join(', ')}` : '')
    );
  }

  /** Looks for cut chains every CHAIN_CHECK_MS, until stop(). */
  watch(): void {
    this.timer = setInterval(() => {
      this.checking ??= this.repairCutChains()
        .catch((error: Error) =>
          this.logger.warn(`Could not check the repeatable chains: ${error.message}`),
        )
        .finally(() => (this.checking = undefined));
    }, CHAIN_CHECK_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private async repairCutChains(): Promise<void> {
    for (const chain of await this.repeatables.findCutChains(this.catalog.enabled)) {
      const addedAt = Date.now();
      await this.repeatables.add(chain.schedule);
      await this.runSkippedTicks([chain], addedAt);
    }
  }

  /**
   * A cut chain, already restarted (its next tick is after `restartedAt`): the ticks it skipped,
   * after its last scheduled one and due by `restartedAt`, run once each as catch-up jobs (the
   * latest MAX_SKIPPED_TICKS; only those with no run yet, under job IDs every instance derives
   * alike). With catch-up off they are not run.
   */
  private async runSkippedTicks(cut: readonly CutChain[], restartedAt: number): Promise<void> {
    for (const { schedule, lastScheduled } of cut) {
      const skipped = schedule.catchUp
        ? ticksBetween(schedule.timing, lastScheduled, restartedAt, MAX_SKIPPED_TICKS)
        : [];
      const ran = await this.runs.ticksWithRuns(schedule.name, skipped);
      const toRun = skipped.filter((tickAt) => !ran.has(tickAt));
      for (const tickAt of toRun) await this.enqueueCatchUp(schedule, tickAt);
      this.logger.warn(
        `The repeatable of "${schedule.name}" had no job after its tick ` +
          `${new Date(lastScheduled).toISOString()} (a worker died between taking a tick and ` +
          `scheduling the next): restarted, ` +
          (schedule.catchUp
            ? `${toRun.length} skipped tick(s) enqueued to run once`
            : 'skipped ticks not run (catch-up off)'),
      );
    }
  }

  /**
   * A repeatable that survived an outage still holds its next tick's job in Redis: Bull runs it
   * as soon as a worker is back, and that is the catch-up. Only a schedule whose repeatable is
   * new (first start in this mode, a changed cron, Redis emptied) needs one enqueued: the latest
   * due tick, once.
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
      await this.enqueueCatchUp(schedule, tickAt);
      caughtUp.push(`${schedule.name} (tick ${new Date(tickAt).toISOString()})`);
    }
    return caughtUp;
  }

  /** Under a job ID every instance derives alike, so instances doing this at once add it once. */
  private async enqueueCatchUp(schedule: Schedule, tickAt: number): Promise<void> {
    await this.producer.enqueue(schedule.job, schedule.payload, {
      jobId: `catch-up:${schedule.name}:${tickAt}`,
      origin: `schedule ${schedule.name}`,
      correlationId: tickCorrelationId(schedule.name, tickAt),
      schedule: { name: schedule.name, trigger: 'catch-up', tickAt },
    });
  }
}
