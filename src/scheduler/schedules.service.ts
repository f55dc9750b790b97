import { Injectable, NotFoundException } from '@nestjs/common';
import { JobProducer } from '../queue';
import { ManualRunView, SchedulesView, toRunView } from './schedule.view';
import { ScheduleCatalog } from './schedule-catalog';
import { ScheduleRunRepository } from './schedule-run.repository';
import { nextTickAfter } from './schedule-timing';
import { SchedulerState } from './scheduler-state';
import { TickJobs } from './tick-jobs';

/**
 * What GET /schedules and POST /schedules/:name/run do. Reads only shared state (Redis and
 * PostgreSQL), so it answers the same in an API process, which runs no scheduler.
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly catalog: ScheduleCatalog,
    private readonly runs: ScheduleRunRepository,
    private readonly tickJobs: TickJobs,
    private readonly state: SchedulerState,
    private readonly producer: JobProducer,
  ) {}

  async list(): Promise<SchedulesView> {
    const schedules = this.catalog.all;
    const now = Date.now();
    const [report, latest, queued] = await Promise.all([
      this.state.read(),
      this.runs.latest(schedules.map((s) => s.name)),
      Promise.all(schedules.map((s) => this.tickJobs.exists(s, nextTickAfter(s.timing, now)))),
    ]);
    const mode = report?.mode ?? null;
    return {
      mode,
      modeReportedBy: report?.instance ?? null,
      modeReportedAt: report?.at ?? null,
      schedules: schedules.map((schedule, index) => {
        const { timing } = schedule;
        const lastRun = latest.get(schedule.name);
        const next = schedule.enabled ? nextTickAfter(timing, now) : undefined;
        return {
          name: schedule.name,
          description: schedule.description,
          mode,
          queue: schedule.queue,
          job: schedule.job,
          cron: timing.kind === 'cron' ? timing.cron : null,
          timeZone: timing.kind === 'cron' ? timing.timeZone : null,
          everyMs: timing.kind === 'every' ? timing.everyMs : null,
          enabled: schedule.enabled,
          catchUp: schedule.catchUp,
          registered: mode === 'distributed' ? queued[index] : null,
          nextRunAt: next === undefined ? null : new Date(next).toISOString(),
          lastRun: lastRun ? toRunView(lastRun) : null,
        };
      }),
    };
  }

  /**
   * Enqueues one run of the schedule now, as a job (in either mode: workers process queues in
   * both). Its tick is now, so it never takes a regular tick's place. A disabled schedule can
   * still be run by hand.
   */
  async runNow(name: string): Promise<ManualRunView> {
    const schedule = this.catalog.find(name);
    if (!schedule) {
      const known = this.catalog.all.map((s) => s.name).join(', ');
      throw new NotFoundException(`No schedule named "${name}" (known: ${known})`);
    }
    const tickAt = Date.now();
    const job = await this.producer.enqueue(schedule.job, schedule.payload, {
      schedule: { name: schedule.name, trigger: 'manual', tickAt },
    });
    return {
      jobId: String(job.id),
      schedule: schedule.name,
      queue: schedule.queue,
      job: schedule.job,
      tickAt: new Date(tickAt).toISOString(),
    };
  }
}
