import { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Columns the database fills in; optional on insert, never updated by the app. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
type Json<T> = ColumnType<T, string, string>;

export type UserRole = 'admin' | 'operator' | 'viewer';
export type PayoutStatus = 'pending' | 'processing' | 'paid' | 'failed' | 'cancelled';
export type LedgerKind = 'earning' | 'payout' | 'reversal';
export type NotificationStatus = 'pending' | 'sent' | 'logged' | 'failed';
export type ExportStatus = 'pending' | 'running' | 'done' | 'failed';
export type ScheduleRunStatus = 'running' | 'succeeded' | 'failed';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  role: UserRole;
  created_at: CreatedAt;
  updated_at: Timestamp;
  disabled_at: NullableTimestamp;
  session_generation: ColumnType<number, number | undefined, number>;
}

export interface AuditLogTable {
  id: Generated<number>;
  actor_id: number | null;
  actor_email: string | null;
  action: string;
  target: string;
  detail: Json<Record<string, unknown>>;
  correlation_id: string | null;
  created_at: CreatedAt;
}

export interface PayeesTable {
  id: Generated<number>;
  name: string;
  email: string;
  currency: string;
  minimum_payout_minor: number;
  active: Generated<boolean>;
  created_at: CreatedAt;
}

export interface PayoutsTable {
  id: Generated<string>;
  payee_id: number;
  amount_minor: number;
  currency: string;
  status: PayoutStatus;
  idempotency_key: string;
  provider_reference: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  correlation_id: string | null;
  /** `<job name>:<job id>` of the cycle or pay-now job that created it (null: created otherwise). */
  created_by_job: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  processing_started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  /** Who holds the lease on a processing payout (`host:pid:random`), null when none does. */
  lease_owner: string | null;
  lease_expires_at: NullableTimestamp;
  /** Fencing token: bumped by every claim; a finish must present the token it claimed with. */
  lease_token: Generated<string>;
  /** Sticky "money may have moved": an unknown outcome or a take-over happened. */
  outcome_unknown_at: NullableTimestamp;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  payee_id: number;
  kind: LedgerKind;
  amount_minor: number;
  currency: string;
  payout_id: string | null;
  created_at: CreatedAt;
}

export interface PayoutEventsTable {
  id: Generated<number>;
  payout_id: string;
  from_status: PayoutStatus | null;
  to_status: PayoutStatus;
  detail: string | null;
  correlation_id: string | null;
  created_at: CreatedAt;
}

export interface NotificationsTable {
  id: Generated<number>;
  dedupe_key: string;
  payout_id: string | null;
  recipient: string;
  subject: string;
  body: string;
  status: NotificationStatus;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: CreatedAt;
  delivered_at: NullableTimestamp;
  lease_token: string | null;
  lease_until: NullableTimestamp;
  reopened_for_retry: number | null;
}

export interface NotificationAttemptsTable {
  id: Generated<number>;
  notification_id: number;
  outcome: 'sent' | 'logged' | 'transient_error' | 'permanent_error';
  error: string | null;
  created_at: CreatedAt;
}

export interface ExportsTable {
  id: Generated<string>;
  requested_by: number | null;
  status: ExportStatus;
  filters: Json<Record<string, unknown>>;
  file_name: string | null;
  row_count: Generated<number>;
  progress: Generated<number>;
  error: string | null;
  byte_size: Generated<number>;
  created_at: CreatedAt;
  finished_at: NullableTimestamp;
  /** Fencing token of the run writing it; a superseded run's writes are refused. */
  run_token: string | null;
}

export interface ExportChunksTable {
  export_id: string;
  seq: number;
  data: Buffer;
}

export interface SimulatedProviderChargesTable {
  idempotency_key: string;
  payee_id: number;
  amount_minor: number;
  currency: string;
  reference: string | null;
  declined_reason: string | null;
  request_count: Generated<number>;
  charge_count: Generated<number>;
  created_at: CreatedAt;
  charged_at: NullableTimestamp;
}

export interface DailyPayoutStatsTable {
  day: string;
  currency: string;
  paid_count: number;
  paid_sum_minor: number;
  failed_count: number;
  avg_processing_ms: number | null;
  updated_at: Timestamp;
}

export interface ScheduleRunsTable {
  id: Generated<number>;
  schedule: string;
  tick_at: ColumnType<Date, Date, never>;
  trigger: 'schedule' | 'catch-up' | 'manual';
  runner: 'queue' | 'inline';
  job_id: string | null;
  instance: string;
  correlation_id: string;
  status: ScheduleRunStatus;
  attempts: Generated<number>;
  duplicates: Generated<number>;
  error: string | null;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
}

export interface DatabaseSchema {
  users: UsersTable;
  audit_log: AuditLogTable;
  payees: PayeesTable;
  payouts: PayoutsTable;
  ledger_entries: LedgerEntriesTable;
  payout_events: PayoutEventsTable;
  notifications: NotificationsTable;
  notification_attempts: NotificationAttemptsTable;
  exports: ExportsTable;
  export_chunks: ExportChunksTable;
  simulated_provider_charges: SimulatedProviderChargesTable;
  simulated_provider_rate: { second: string; calls: number };
  daily_payout_stats: DailyPayoutStatsTable;
  schedule_runs: ScheduleRunsTable;
}

export type User = Selectable<UsersTable>;
export type Payee = Selectable<PayeesTable>;
export type NewPayee = Insertable<PayeesTable>;
export type Payout = Selectable<PayoutsTable>;
export type PayoutUpdate = Updateable<PayoutsTable>;
export type PayoutEvent = Selectable<PayoutEventsTable>;
export type Notification = Selectable<NotificationsTable>;
export type ExportRecord = Selectable<ExportsTable>;
export type LedgerEntry = Selectable<LedgerEntriesTable>;
export type DailyPayoutStats = Selectable<DailyPayoutStatsTable>;
export type ScheduleRun = Selectable<ScheduleRunsTable>;
