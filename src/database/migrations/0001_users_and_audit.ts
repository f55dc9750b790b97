import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id bigserial PRIMARY KEY,
      email text NOT NULL,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));

    -- Who changed what: every mutation through the management API.
    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
      actor_email text,
      action text NOT NULL,
      target text NOT NULL,
      detail jsonb NOT NULL DEFAULT '{}',
      correlation_id text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_log_created_at_idx ON audit_log (created_at DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE audit_log; DROP TABLE users;`.execute(db);
}
