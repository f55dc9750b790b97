import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- A lease instead of a session-level advisory lock: who works on the payout, until when, and
    -- a fencing token that the finishing statement must present (docs/payouts.md).
    ALTER TABLE payouts
      ADD COLUMN lease_owner text,
      ADD COLUMN lease_expires_at timestamptz,
      ADD COLUMN lease_token bigint NOT NULL DEFAULT 0,
      -- Sticky "money may have moved": set once an attempt's outcome was unknown or the payout
      -- was taken over from a lapsed lease; only the provider's lookup may then fail it.
      ADD COLUMN outcome_unknown_at timestamptz;
    -- Payouts the advisory-lock design left processing may have had a call in flight.
    UPDATE payouts SET outcome_unknown_at = updated_at WHERE status = 'processing';
    CREATE INDEX payouts_lapsed_lease_idx ON payouts (lease_expires_at)
      WHERE status = 'processing' AND lease_expires_at IS NOT NULL;
    -- The simulated provider's rate limit: calls per second, shared by every worker.
    CREATE TABLE simulated_provider_rate (
      second bigint PRIMARY KEY,
      calls integer NOT NULL
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE simulated_provider_rate;
    DROP INDEX payouts_lapsed_lease_idx;
    ALTER TABLE payouts
      DROP COLUMN lease_owner,
      DROP COLUMN lease_expires_at,
      DROP COLUMN lease_token,
      DROP COLUMN outcome_unknown_at;
  `.execute(db);
}
