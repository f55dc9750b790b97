import { ConfigProblem } from './config-error';
import type {
  AppEnv,
  AppRole,
  DatabaseEnv,
  ExportsEnv,
  LogLevel,
  MetricsEnv,
  NodeEnv,
  NotificationsEnv,
  OtlpProtocol,
  PaymentProviderKind,
  PayoutsEnv,
  QueueEnv,
  RedisEnv,
  SchedulerEnv,
  SessionEnv,
  TracingEnv,
} from './env';

type ValidatedEnv = AppEnv &
  RedisEnv &
  DatabaseEnv &
  QueueEnv &
  SessionEnv &
  SchedulerEnv &
  PayoutsEnv &
  NotificationsEnv &
  ExportsEnv &
  MetricsEnv &
  TracingEnv;

/** Used only outside production, so a laptop starts with no setup; production must set its own. */
const DEVELOPMENT_SESSION_SECRET = 'development-only-session-secret-change-me-0000';

/**
 * The typed configuration, built once from the validated environment. Nothing else in the
 * codebase reads process.env: inject AppConfig instead.
 */
export class AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly isProduction: boolean;
  readonly role: AppRole;
  readonly http: { port: number; host: string; trustProxy: boolean | number | string };
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly metricsToken?: string;
  /** The worker role's /metrics port (METRICS_PORT); undefined: no metrics server in workers. */
  readonly metricsPort?: number;
  readonly redis: { url: string; prefix: string };
  readonly database: { url: string; poolSize: number; migrateOnStart: boolean };
  readonly queue: {
    defaultConcurrency: number;
    concurrencyOverrides: Readonly<Record<string, number | undefined>>;
    jobTimeoutMs: number;
    attempts: number;
    backoffDelayMs: number;
    completedRetention: number;
    failedRetentionMs: number;
    cleanupIntervalMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
  };
  readonly payouts: {
    provider: {
      kind: PaymentProviderKind;
      latencyMs: number;
      transientFailureRate: number;
      permanentFailureRate: number;
      failFirstAttempts: number;
    };
    stuckAfterMs: number;
    cycleBatchSize: number;
  };
  readonly notifications: { smtpUrl?: string; from: string };
  readonly exports: { retentionMs: number };
  readonly session: {
    secrets: string[];
    usesDevelopmentSecret: boolean;
    ttlMs: number;
    bootstrapAdmin?: { email: string; password: string };
  };
  readonly correlation: { enabled: boolean };
  readonly scheduler: { distributed: boolean; runRetentionMs: number };
  /** OpenTelemetry export; undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset (tracing off). */
  readonly tracing?: {
    /** Where spans are sent: OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
    tracesUrl: string;
    protocol: OtlpProtocol;
    headers: Record<string, string>;
    serviceName: string;
    scheduleDelayMs: number;
  };
  /** Validated-elsewhere extras (schedule overrides, provider settings) read by their own modules. */
  readonly raw: Readonly<Record<string, string | undefined>>;

  constructor(env: ValidatedEnv, raw: Record<string, string | undefined>) {
    this.raw = Object.freeze({ ...raw });
    this.nodeEnv = env.NODE_ENV;
    this.isProduction = env.NODE_ENV === 'production';
    this.role = env.APP_ROLE;
    this.http = { port: env.PORT, host: env.HOST, trustProxy: parseTrustProxy(env.TRUST_PROXY) };
    this.logLevel = env.LOG_LEVEL;
    this.shutdownTimeoutMs = env.SHUTDOWN_TIMEOUT;
    this.metricsToken = env.METRICS_TOKEN;
    this.metricsPort = env.METRICS_PORT;
    this.redis = { url: env.REDIS_URL, prefix: env.QUEUE_PREFIX };
    this.database = {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      migrateOnStart: env.MIGRATE_ON_START,
    };
    this.queue = {
      defaultConcurrency: env.MAX_QUEUE_CONCURRENCY,
      concurrencyOverrides: {
        payouts: env.QUEUE_CONCURRENCY_PAYOUTS,
        analytics: env.QUEUE_CONCURRENCY_ANALYTICS,
        notifications: env.QUEUE_CONCURRENCY_NOTIFICATIONS,
        exports: env.QUEUE_CONCURRENCY_EXPORTS,
      },
      jobTimeoutMs: env.JOB_TIMEOUT,
      attempts: env.JOB_ATTEMPTS,
      backoffDelayMs: env.JOB_BACKOFF_DELAY,
      completedRetention: env.COMPLETED_JOB_RETENTION,
      failedRetentionMs: env.FAILED_JOB_RETENTION,
      cleanupIntervalMs: env.QUEUE_CLEANUP_INTERVAL,
      lockDurationMs: env.QUEUE_LOCK_DURATION,
      stalledIntervalMs: env.QUEUE_STALLED_INTERVAL,
    };
    this.payouts = {
      provider: {
        kind: env.PAYMENT_PROVIDER,
        latencyMs: env.PROVIDER_LATENCY,
        transientFailureRate: env.PROVIDER_TRANSIENT_FAILURE_RATE,
        permanentFailureRate: env.PROVIDER_PERMANENT_FAILURE_RATE,
        failFirstAttempts: env.PROVIDER_FAIL_FIRST_ATTEMPTS,
      },
      stuckAfterMs: env.PAYOUT_STUCK_AFTER,
      cycleBatchSize: env.PAYOUT_CYCLE_BATCH_SIZE,
    };
    this.notifications = { smtpUrl: env.SMTP_URL, from: env.NOTIFICATION_FROM };
    this.exports = { retentionMs: env.EXPORT_RETENTION };
    const secrets = (env.SESSION_SECRET ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.session = {
      secrets: secrets.length > 0 ? secrets : [DEVELOPMENT_SESSION_SECRET],
      usesDevelopmentSecret: secrets.length === 0,
      ttlMs: env.SESSION_TTL,
      bootstrapAdmin:
        env.BOOTSTRAP_ADMIN_EMAIL && env.BOOTSTRAP_ADMIN_PASSWORD
          ? { email: env.BOOTSTRAP_ADMIN_EMAIL, password: env.BOOTSTRAP_ADMIN_PASSWORD }
          : undefined,
    };
    this.correlation = { enabled: env.ENABLE_CORRELATION_IDS };
    this.scheduler = {
      distributed: env.USE_DISTRIBUTED_SCHEDULER,
      runRetentionMs: env.SCHEDULER_RUN_RETENTION,
    };
    this.tracing = env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          tracesUrl: `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`,
          protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL,
          headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
          serviceName: env.OTEL_SERVICE_NAME ?? `payouts-${env.APP_ROLE}`,
          scheduleDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
        }
      : undefined;
  }

  concurrencyFor(queue: string): number {
    return this.queue.concurrencyOverrides[queue] ?? this.queue.defaultConcurrency;
  }

  /** Rules that span variables or depend on NODE_ENV. */
  crossChecks(): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    if (this.isProduction && this.session.usesDevelopmentSecret) {
      problems.push({
        variable: 'SESSION_SECRET',
        expected: 'is required when NODE_ENV=production (at least 32 random characters)',
        got: 'nothing',
      });
    }
    const hasEmail = this.raw.BOOTSTRAP_ADMIN_EMAIL !== undefined;
    const hasPassword = this.raw.BOOTSTRAP_ADMIN_PASSWORD !== undefined;
    if (hasEmail !== hasPassword) {
      problems.push({
        variable: hasEmail ? 'BOOTSTRAP_ADMIN_PASSWORD' : 'BOOTSTRAP_ADMIN_EMAIL',
        expected:
          'must be set together with its pair (BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD)',
        got: 'nothing',
      });
    }
    const { transientFailureRate, permanentFailureRate } = this.payouts.provider;
    if (transientFailureRate + permanentFailureRate > 1) {
      problems.push({
        variable: 'PROVIDER_PERMANENT_FAILURE_RATE',
        expected: 'plus PROVIDER_TRANSIENT_FAILURE_RATE must not exceed 1',
        got: JSON.stringify(String(permanentFailureRate)),
      });
    }
    if (this.queue.stalledIntervalMs > this.queue.lockDurationMs) {
      problems.push({
        variable: 'QUEUE_STALLED_INTERVAL',
        expected: `must not exceed QUEUE_LOCK_DURATION (${this.queue.lockDurationMs} ms)`,
        got: JSON.stringify(String(this.queue.stalledIntervalMs)),
      });
    }
    return problems;
  }

  /** Legal but risky settings: logged at start, never silent. */
  warnings(): string[] {
    const warnings: string[] = [];
    if (this.session.usesDevelopmentSecret) {
      warnings.push(
        'SESSION_SECRET is not set: using a development-only secret (refused in production).',
      );
    }
    if (this.queue.jobTimeoutMs < 1_000) {
      warnings.push(`JOB_TIMEOUT is ${this.queue.jobTimeoutMs} ms: most jobs will time out.`);
    }
    const held = this.concurrencyFor('payouts') + this.concurrencyFor('notifications');
    if (this.role !== 'api' && this.database.poolSize < held + 2) {
      warnings.push(
        `DATABASE_POOL_SIZE (${this.database.poolSize}) is below the payouts + notifications ` +
          `concurrency (${held}) + 2: jobs will wait for connections and time out. Raise it.`,
      );
    }
    if (this.isProduction && this.payouts.provider.kind === 'simulated') {
      warnings.push(
        'PAYMENT_PROVIDER is "simulated" in production: no money moves (see docs/payment-providers.md).',
      );
    }
    if (this.payouts.stuckAfterMs < this.queue.lockDurationMs) {
      warnings.push(
        `PAYOUT_STUCK_AFTER (${this.payouts.stuckAfterMs} ms) is shorter than QUEUE_LOCK_DURATION: ` +
          'the reconciler will re-enqueue payouts whose jobs are merely slow (harmless, but noisy).',
      );
    }
    return warnings;
  }
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs separated by commas, values URL-encoded (the spec's format). */
function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const raw = pair.slice(at + 1).trim();
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // Not valid percent-encoding: send it as written.
    }
    headers[pair.slice(0, at).trim()] = decoded;
  }
  return headers;
}
