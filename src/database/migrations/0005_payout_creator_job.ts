import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The job that created the payout (cycle or pay-now), so that job, run again after a crash
    -- between its commit and its enqueue, finds the payouts it left without a job at once.
    ALTER TABLE payouts ADD COLUMN created_by_job text;
    CREATE INDEX payouts_orphan_idx ON payouts (created_by_job)
      WHERE status = 'pending' AND created_by_job IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX payouts_orphan_idx;
    ALTER TABLE payouts DROP COLUMN created_by_job;
  `.execute(db);
}
