import { Injectable } from '@nestjs/common';
import { Database, ScheduleRun, ScheduleRunsTable } from '../database';
import { ScheduleTrigger } from '../queue';

/** Who runs a tick, for its schedule_runs row. */
export interface TickRun {
  schedule: string;
  tickAt: number;
  trigger: ScheduleTrigger;
  runner: ScheduleRunsTable['runner'];
  /** The Bull job running it; null for an in-process (legacy) run, which is never retried. */
  jobId: string | null;
  instance: string;
  correlationId: string;
}

export type Claim =
  | { claimed: true; id: number; attempt: number }
  | { claimed: false; holder: Pick<ScheduleRun, 'job_id' | 'instance' | 'status' | 'duplicates'> };

/** schedule_runs: one row per (schedule, tick), the durable record that a tick ran. */
@Injectable()
export class ScheduleRunRepository {
  constructor(private readonly db: Database) {}

  /**
   * Claims the tick for this run. The same Bull job coming back (a retry, or a stalled job
   * picked up again after its worker died) takes its own row over; anything else finding the
   * tick taken is a duplicate: refused, and counted on the row.
   */
  async claim(run: TickRun): Promise<Claim> {
    const tickAt = new Date(run.tickAt);
    const row = await this.db
      .insertInto('schedule_runs')
      .values({
        schedule: run.schedule,
        tick_at: tickAt,
        trigger: run.trigger,
        runner: run.runner,
        job_id: run.jobId,
        instance: run.instance,
        correlation_id: run.correlationId,
        status: 'running',
      })
      .onConflict((conflict) =>
        conflict
          .columns(['schedule', 'tick_at'])
          .doUpdateSet((eb) => ({
            attempts: eb('schedule_runs.attempts', '+', 1),
            instance: eb.ref('excluded.instance'),
            status: 'running',
            error: null,
            started_at: new Date(),
            finished_at: null,
          }))
          // NULL job IDs (in-process runs) never match: a second in-process run is a duplicate.
          .where('schedule_runs.job_id', '=', (eb) => eb.ref('excluded.job_id'))
          .where('schedule_runs.status', '!=', 'succeeded'),
      )
      .returning(['id', 'attempts'])
      .executeTakeFirst();
    if (row) return { claimed: true, id: row.id, attempt: row.attempts };

    const holder = await this.db
      .updateTable('schedule_runs')
      .set((eb) => ({ duplicates: eb('duplicates', '+', 1) }))
      .where('schedule', '=', run.schedule)
      .where('tick_at', '=', tickAt)
      .returning(['job_id', 'instance', 'status', 'duplicates'])
      .executeTakeFirstOrThrow();
    return { claimed: false, holder };
  }

  async finish(id: number, outcome: { error?: string }): Promise<void> {
    await this.db
      .updateTable('schedule_runs')
      .set({
        status: outcome.error === undefined ? 'succeeded' : 'failed',
        error: outcome.error ?? null,
        finished_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Deletes runs whose tick is older than `before`, in batches, except the latest run of each
   * schedule (catch-up compares against it). Returns how many rows went.
   */
  async trimOlderThan(before: Date, batch = 5_000): Promise<number> {
    let removed = 0;
    for (;;) {
      const result = await this.db
        .deleteFrom('schedule_runs')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('schedule_runs as r')
            .select('r.id')
            .where('r.tick_at', '<', before)
            .where(({ exists, selectFrom }) =>
              exists(
                selectFrom('schedule_runs as later')
                  .select('later.id')
                  .whereRef('later.schedule', '=', 'r.schedule')
                  .whereRef('later.tick_at', '>', 'r.tick_at'),
              ),
            )
            .limit(batch),
        )
        .executeTakeFirst();
      const deleted = Number(result.numDeletedRows);
      removed += deleted;
      if (deleted < batch) return removed;
    }
  }

  /** The latest run of each schedule (by tick), keyed by schedule name. */
  async latest(schedules: readonly string[]): Promise<Map<string, ScheduleRun>> {
    if (schedules.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('schedule_runs')
      .selectAll()
      .where('schedule', 'in', schedules)
      .distinctOn('schedule')
      .orderBy('schedule')
      .orderBy('tick_at', 'desc')
      .execute();
    return new Map(rows.map((row) => [row.schedule, row]));
  }

  /** Those of the given ticks (epoch ms) that have a run of the schedule. */
  async ticksWithRuns(schedule: string, ticks: readonly number[]): Promise<Set<number>> {
    if (ticks.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('schedule_runs')
      .select('tick_at')
      .where('schedule', '=', schedule)
      .where(
        'tick_at',
        'in',
        ticks.map((tick) => new Date(tick)),
      )
      .execute();
    return new Set(rows.map((row) => row.tick_at.getTime()));
  }

  /** The tick of the schedule's latest run (epoch ms), or undefined when it never ran. */
  async latestTickAt(schedule: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('schedule_runs')
      .select('tick_at')
      .where('schedule', '=', schedule)
      .orderBy('tick_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.tick_at.getTime();
  }
}
