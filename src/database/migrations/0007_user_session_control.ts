import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- A disabled user cannot log in, and their sessions are refused on the next request.
    ALTER TABLE users ADD COLUMN disabled_at timestamptz;
    -- Each session remembers the generation it was opened under; ending a user's sessions
    -- (log out everywhere, an admin, disabling) increments it, which every instance sees at once.
    ALTER TABLE users ADD COLUMN session_generation integer NOT NULL DEFAULT 0;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE users DROP COLUMN session_generation;
    ALTER TABLE users DROP COLUMN disabled_at;
  `.execute(db);
}
