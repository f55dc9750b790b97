import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- A run sends a notification under a lease (who and until when) instead of a row lock, so
    -- no transaction stays open during the SMTP exchange.
    ALTER TABLE notifications ADD COLUMN lease_token uuid;
    ALTER TABLE notifications ADD COLUMN lease_until timestamptz;
    -- The operator retry (Bull's retriedOn, ms) that last reopened a failed notification, so
    -- each retry reopens it once.
    ALTER TABLE notifications ADD COLUMN reopened_for_retry bigint;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notifications DROP COLUMN lease_token, DROP COLUMN lease_until,
      DROP COLUMN reopened_for_retry;
  `.execute(db);
}
