import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE payees (
      id bigserial PRIMARY KEY,
      name text NOT NULL,
      email text NOT NULL,
      currency char(3) NOT NULL,
      minimum_payout_minor bigint NOT NULL CHECK (minimum_payout_minor > 0),
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX payees_active_idx ON payees (id) WHERE active;

    CREATE TABLE payouts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      payee_id bigint NOT NULL REFERENCES payees (id),
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency char(3) NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled')),
      -- One payout per balance: the payee and the last ledger entry the balance was computed from.
      idempotency_key text NOT NULL UNIQUE,
      provider_reference text,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      correlation_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      processing_started_at timestamptz,
      finished_at timestamptz
    );
    CREATE INDEX payouts_payee_idx ON payouts (payee_id, created_at DESC);
    CREATE INDEX payouts_status_idx ON payouts (status, updated_at);
    CREATE INDEX payouts_created_idx ON payouts (created_at DESC, id DESC);

    -- Append-only. Credits (earnings, reversals) are positive, debits (payouts) negative,
    -- in integer minor units. A payee's balance is the sum of its entries.
    CREATE TABLE ledger_entries (
      id bigserial PRIMARY KEY,
      payee_id bigint NOT NULL REFERENCES payees (id),
      kind text NOT NULL CHECK (kind IN ('earning', 'payout', 'reversal')),
      amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
      currency char(3) NOT NULL,
      payout_id uuid REFERENCES payouts (id),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_entries_payee_idx ON ledger_entries (payee_id, id);
    -- At most one debit and one reversal per payout: a compensation can never be applied twice.
    CREATE UNIQUE INDEX ledger_entries_payout_kind_key ON ledger_entries (payout_id, kind) WHERE payout_id IS NOT NULL;

    CREATE TABLE payout_events (
      id bigserial PRIMARY KEY,
      payout_id uuid NOT NULL REFERENCES payouts (id),
      from_status text,
      to_status text NOT NULL,
      detail text,
      correlation_id text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX payout_events_payout_idx ON payout_events (payout_id, id);

    CREATE TABLE notifications (
      id bigserial PRIMARY KEY,
      -- Deduplicates a notification whose job ran twice: one per payout and outcome.
      dedupe_key text NOT NULL UNIQUE,
      payout_id uuid REFERENCES payouts (id),
      recipient text NOT NULL,
      subject text NOT NULL,
      body text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'sent', 'logged', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz
    );

    CREATE TABLE notification_attempts (
      id bigserial PRIMARY KEY,
      notification_id bigint NOT NULL REFERENCES notifications (id),
      outcome text NOT NULL CHECK (outcome IN ('sent', 'logged', 'transient_error', 'permanent_error')),
      error text,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE exports (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      requested_by bigint REFERENCES users (id) ON DELETE SET NULL,
      status text NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
      filters jsonb NOT NULL DEFAULT '{}',
      file_name text,
      row_count bigint NOT NULL DEFAULT 0,
      progress integer NOT NULL DEFAULT 0,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );

    CREATE TABLE daily_payout_stats (
      day date NOT NULL,
      currency char(3) NOT NULL,
      paid_count bigint NOT NULL,
      paid_sum_minor bigint NOT NULL,
      failed_count bigint NOT NULL,
      avg_processing_ms bigint,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (day, currency)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE daily_payout_stats, exports, notification_attempts, notifications,
      payout_events, ledger_entries, payouts, payees;
  `.execute(db);
}
