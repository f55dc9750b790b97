import { Kysely, sql } from 'kysely';

/**
 * One row per run of a schedule's tick, written by the scheduler around the task (not by the
 * task). UNIQUE (schedule, tick_at) is the durable "this tick ran" claim in both scheduler modes:
 * a second attempt at a tick is refused and counted in `duplicates`, never silently absorbed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE schedule_runs (
      id bigserial PRIMARY KEY,
      schedule text NOT NULL,
      tick_at timestamptz NOT NULL,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual')),
      -- queue: a Bull job ran it (distributed mode, catch-up, manual); inline: legacy cron in-process.
      runner text NOT NULL CHECK (runner IN ('queue', 'inline')),
      job_id text,
      instance text NOT NULL,
      correlation_id text NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
      attempts integer NOT NULL DEFAULT 1,
      duplicates integer NOT NULL DEFAULT 0,
      error text,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      CONSTRAINT schedule_runs_schedule_tick_key UNIQUE (schedule, tick_at)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE schedule_runs;`.execute(db);
}
