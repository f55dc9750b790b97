import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Fencing token of the run writing an export: every (re)start draws a new one, and a run
    -- whose token was replaced (its job ran again elsewhere) can no longer write.
    ALTER TABLE exports ADD COLUMN run_token uuid;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE exports DROP COLUMN run_token`.execute(db);
}
