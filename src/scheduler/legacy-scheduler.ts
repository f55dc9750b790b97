import { Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { JobDispatcher, ScheduleTrigger } from '../queue';
import type { Schedule } from './schedule.definitions';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { describeTiming, nextTickAfter, periodAt } from './schedule-timing';
import { INSTANCE_ID, missedTick, nearestTick, tickCorrelationId } from './scheduled-tick';
import { TickLock } from './tick-lock';
import { TickRunner } from './tick-runner';

/** setTimeout's longest wait (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * USE_DISTRIBUTED_SCHEDULER=false: the original centralized scheduler. Cron jobs in this process
 * (@nestjs/schedule's registry) call the schedule's task code directly, the same @JobHandler
 * method a queued job would run, with no queue in between. Every instance fires every tick, so
 * each tick first takes a Redis lock (SET NX PX on schedule + tick) and only its winner runs it.
 */
@Injectable()
export class LegacyScheduler {
  private readonly logger = new Logger('Scheduler');
  private readonly inflight = new Set<Promise<void>>();
  private readonly timerNames: string[] = [];
  private stopped = false;

  constructor(
    private readonly catalog: ScheduleCatalog,
    private readonly registry: SchedulerRegistry,
    private readonly lock: TickLock,
    private readonly runner: TickRunner,
    private readonly runs: ScheduleRunRepository,
    private readonly dispatcher: JobDispatcher,
    private readonly correlation: CorrelationContext,
    private readonly config: AppConfig,
  ) {}

  /** Arms the timers and catches up; returns a one-line summary for the start-up log. */
  async start(): Promise<string> {
    for (const schedule of this.catalog.enabled) this.arm(schedule);
    const caughtUp: string[] = [];
    for (const schedule of this.catalog.enabled.filter((s) => s.catchUp)) {
      const now = Date.now();
      const tickAt = missedTick(schedule.timing, await this.runs.latestTickAt(schedule.name), now);
      if (tickAt === undefined) continue;
      caughtUp.push(`${schedule.name} (tick ${new Date(tickAt).toISOString()})`);
      this.fire(schedule, tickAt, 'catch-up');
    }
    return (
      `${this.catalog.enabled.length} schedule(s) on in-process timers` +
      (caughtUp.length > 0 ? `; catching up ${caughtUp.join(', ')}` : '')
    );
  }

  /** Stops the timers and waits (within SHUTDOWN_TIMEOUT) for the ticks still running. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const name of this.timerNames) {
      if (this.registry.doesExist('cron', name)) this.registry.deleteCronJob(name);
      if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
    }
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((resolve) => (timer = setTimeout(resolve, this.config.shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
  }

  private arm(schedule: Schedule): void {
    const name = `schedule:${schedule.name}`;
    this.timerNames.push(name);
    const { timing } = schedule;
    if (timing.kind === 'cron') {
      let job: CronJob;
      try {
        job = CronJob.from({
          cronTime: timing.cron,
          timeZone: timing.timeZone,
          onTick: () => this.fire(schedule, nearestTick(timing, Date.now()), 'schedule'),
          start: false,
        });
      } catch (error) {
        throw new Error(
          `Schedule "${schedule.name}": the in-process cron scheduler refuses ${describeTiming(timing)}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      this.registry.addCronJob(name, job);
      job.start();
      return;
    }
    // Intervals tick at multiples of the interval since the epoch, as Bull's do, so instances
    // (and both modes) agree on each tick's instant.
    const armFor = (tickAt: number) => {
      // setTimeout cannot wait longer than MAX_TIMEOUT_MS: long waits are done in steps.
      const wait = Math.min(tickAt - Date.now(), MAX_TIMEOUT_MS);
      const timeout = setTimeout(() => {
        this.registry.deleteTimeout(name);
        if (this.stopped) return;
        if (Date.now() < tickAt - 1) return armFor(tickAt);
        armFor(nextTickAfter(timing, Math.max(Date.now(), tickAt)));
        this.fire(schedule, tickAt, 'schedule');
      }, wait);
      this.registry.addTimeout(name, timeout);
    };
    armFor(nextTickAfter(timing, Date.now()));
  }

  private fire(schedule: Schedule, tickAt: number, trigger: ScheduleTrigger): void {
    if (this.stopped) return;
    const correlationId = tickCorrelationId(schedule.name, tickAt);
    const origin = `schedule ${schedule.name}`;
    const running = this.correlation
      .run({ correlationId, origin }, () => this.runTick(schedule, tickAt, trigger))
      .catch((error: Error) =>
        this.logger.error(`${trigger} run of "${schedule.name}" failed: ${error.message}`),
      )
      .finally(() => this.inflight.delete(running));
    this.inflight.add(running);
  }

  private async runTick(
    schedule: Schedule,
    tickAt: number,
    trigger: ScheduleTrigger,
  ): Promise<void> {
    const period = periodAt(schedule.timing, tickAt);
    const lock = await this.lock.acquire(schedule.name, tickAt, period, INSTANCE_ID);
    if (!lock.acquired) {
      this.logger.debug(
        `Tick ${new Date(tickAt).toISOString()} of "${schedule.name}" already claimed by ${lock.holder ?? 'another instance'}`,
      );
      return;
    }
    const correlationId = tickCorrelationId(schedule.name, tickAt);
    const origin = `schedule ${schedule.name}`;
    await this.runner.run(
      {
        schedule: schedule.name,
        tickAt,
        trigger,
        runner: 'inline',
        jobId: null,
        instance: INSTANCE_ID,
        correlationId,
      },
      () =>
        this.dispatcher.runInline(schedule.job, schedule.payload, {
          runId: `inline:${schedule.name}:${tickAt}`,
          correlationId,
          origin,
          schedule: { name: schedule.name, trigger, tickAt },
        }),
    );
  }
}
