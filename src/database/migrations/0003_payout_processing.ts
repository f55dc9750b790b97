import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The simulated payment provider's own books. It lives in PostgreSQL, not in a process, so
    -- that every worker process sees the same provider and tests can count charges per payout.
    -- One row per idempotency key = at most one charge; the counters show how often it was asked.
    CREATE TABLE simulated_provider_charges (
      idempotency_key text PRIMARY KEY,
      payee_id bigint NOT NULL,
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency char(3) NOT NULL,
      -- Set once, when the money moves; a later call with the key returns it again.
      reference text,
      -- A permanent refusal is remembered, so a repeated call is refused the same way.
      declined_reason text,
      -- Every call with this key, failed ones included.
      request_count integer NOT NULL DEFAULT 1,
      -- Calls answered with success: 1 is the charge, more are idempotent replays.
      charge_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      charged_at timestamptz
    );

    -- Finished CSV exports, in chunks, so any API instance can stream one (no shared disk).
    CREATE TABLE export_chunks (
      export_id uuid NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (export_id, seq)
    );
    ALTER TABLE exports ADD COLUMN byte_size bigint NOT NULL DEFAULT 0;
    CREATE INDEX exports_finished_idx ON exports (finished_at) WHERE finished_at IS NOT NULL;

    -- Daily statistics read payouts by the day they finished.
    CREATE INDEX payouts_finished_idx ON payouts (finished_at) WHERE finished_at IS NOT NULL;

    -- Balances are sums over a payee's entries: cover them so the cycle reads only the index.
    CREATE INDEX ledger_entries_balance_idx ON ledger_entries (payee_id, id) INCLUDE (amount_minor);
    DROP INDEX ledger_entries_payee_idx;

    CREATE INDEX notifications_payout_idx ON notifications (payout_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX notifications_payout_idx;
    CREATE INDEX ledger_entries_payee_idx ON ledger_entries (payee_id, id);
    DROP INDEX ledger_entries_balance_idx;
    DROP INDEX payouts_finished_idx;
    DROP INDEX exports_finished_idx;
    ALTER TABLE exports DROP COLUMN byte_size;
    DROP TABLE export_chunks;
    DROP TABLE simulated_provider_charges;
  `.execute(db);
}
