import { ConfigProblem } from './config-error';
import type {
  AppEnv,
  AppRole,
  AuthEnv,
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
  AuthEnv &
  SchedulerEnv &
  PayoutsEnv &
  NotificationsEnv &
  ExportsEnv &
  MetricsEnv &
  TracingEnv;

/** Where Redis is: one server (url), or the primary named by Sentinel (url then gives credentials, db, TLS). */
export interface RedisSettings {
  url: string;
  prefix: string;
  sentinel?: {
    sentinels: Array<{ host: string; port: number }>;
    name: string;
    password?: string;
    tls: boolean;
  };
}

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
  readonly redis: RedisSettings;
  readonly database: {
    url: string;
    /** For work that needs its own session (migrations): DATABASE_MIGRATION_URL, else `url`. */
    migrationUrl: string;
    poolSize: number;
    migrateOnStart: boolean;
  };
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
      lostResponseRate: number;
      errorAfterCommitRate: number;
      hangRate: number;
      rateLimitPerSecond: number;
    };
    providerTimeoutMs: number;
    leaseMs: number;
    stuckAfterMs: number;
    cycleBatchSize: number;
  };
  readonly notifications: { smtpUrl?: string; from: string };
  readonly exports: { retentionMs: number };
  readonly session: {
    secrets: string[];
    usesDevelopmentSecret: boolean;
    ttlMs: number;
    maxAgeMs: number;
    bootstrapAdmin?: { email: string; password: string };
  };
  /** Failed logins allowed per window, for each counter (see AuthEnv). */
  readonly loginThrottle: {
    perAccountIp: { points: number; windowMs: number };
    perIp: { points: number; windowMs: number };
    perAccount: { points: number; windowMs: number };
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
    this.redis = {
      url: env.REDIS_URL,
      prefix: env.QUEUE_PREFIX,
      sentinel: env.REDIS_SENTINELS
        ? {
            sentinels: parseHostPorts(env.REDIS_SENTINELS),
            name: env.REDIS_SENTINEL_NAME,
            password: env.REDIS_SENTINEL_PASSWORD,
            tls: env.REDIS_SENTINEL_TLS,
          }
        : undefined,
    };
    this.database = {
      url: env.DATABASE_URL,
      migrationUrl: env.DATABASE_MIGRATION_URL ?? env.DATABASE_URL,
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
        lostResponseRate: env.PROVIDER_LOST_RESPONSE_RATE,
        errorAfterCommitRate: env.PROVIDER_ERROR_AFTER_COMMIT_RATE,
        hangRate: env.PROVIDER_HANG_RATE,
        rateLimitPerSecond: env.PROVIDER_RATE_LIMIT,
      },
      providerTimeoutMs: env.PROVIDER_TIMEOUT,
      leaseMs: env.PAYOUT_LEASE,
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
      maxAgeMs: env.SESSION_MAX_AGE,
      bootstrapAdmin:
        env.BOOTSTRAP_ADMIN_EMAIL && env.BOOTSTRAP_ADMIN_PASSWORD
          ? { email: env.BOOTSTRAP_ADMIN_EMAIL, password: env.BOOTSTRAP_ADMIN_PASSWORD }
          : undefined,
    };
    this.loginThrottle = {
      perAccountIp: {
        points: env.LOGIN_FAILURES_PER_ACCOUNT_IP,
        windowMs: env.LOGIN_ACCOUNT_IP_WINDOW,
      },
      perIp: { points: env.LOGIN_FAILURES_PER_IP, windowMs: env.LOGIN_IP_WINDOW },
      perAccount: { points: env.LOGIN_FAILURES_PER_ACCOUNT, windowMs: env.LOGIN_ACCOUNT_WINDOW },
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
    const provider = this.payouts.provider;
    const rates =
      provider.transientFailureRate +
      provider.permanentFailureRate +
      provider.lostResponseRate +
      provider.errorAfterCommitRate +
      provider.hangRate;
    if (rates > 1) {
      problems.push({
        variable: 'PROVIDER_PERMANENT_FAILURE_RATE',
        expected:
          'plus PROVIDER_TRANSIENT_FAILURE_RATE, PROVIDER_LOST_RESPONSE_RATE, ' +
          'PROVIDER_ERROR_AFTER_COMMIT_RATE and PROVIDER_HANG_RATE must not exceed 1',
        got: JSON.stringify(String(provider.permanentFailureRate)),
      });
    }
    if (this.payouts.leaseMs <= this.payouts.providerTimeoutMs) {
      problems.push({
        variable: 'PAYOUT_LEASE',
        expected: `must exceed PROVIDER_TIMEOUT (${this.payouts.providerTimeoutMs} ms): a call must end before its lease does`,
        got: JSON.stringify(String(this.payouts.leaseMs)),
      });
    }
    if (this.queue.stalledIntervalMs > this.queue.lockDurationMs) {
      problems.push({
        variable: 'QUEUE_STALLED_INTERVAL',
        expected: `must not exceed QUEUE_LOCK_DURATION (${this.queue.lockDurationMs} ms)`,
        got: JSON.stringify(String(this.queue.stalledIntervalMs)),
      });
    }
    const badSentinel = this.redis.sentinel?.sentinels.find((s) => s.port < 1 || s.port > 65535);
    if (badSentinel) {
      problems.push({
        variable: 'REDIS_SENTINELS',
        expected: 'ports must be between 1 and 65535',
        got: JSON.stringify(`${badSentinel.host}:${badSentinel.port}`),
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
    if (this.role !== 'api' && this.queue.jobTimeoutMs <= this.payouts.providerTimeoutMs) {
      warnings.push(
        `JOB_TIMEOUT (${this.queue.jobTimeoutMs} ms) does not exceed PROVIDER_TIMEOUT ` +
          `(${this.payouts.providerTimeoutMs} ms): Bull will fail payout attempts whose call is still running.`,
      );
    }
    if (this.session.maxAgeMs < this.session.ttlMs) {
      warnings.push(
        `SESSION_MAX_AGE (${this.session.maxAgeMs} ms) is shorter than SESSION_TTL: every session ` +
          'ends at SESSION_MAX_AGE and the idle timeout never applies.',
      );
    }
    const { perAccount, perAccountIp } = this.loginThrottle;
    if (perAccount.points <= perAccountIp.points) {
      warnings.push(
        `LOGIN_FAILURES_PER_ACCOUNT (${perAccount.points}) is not above LOGIN_FAILURES_PER_ACCOUNT_IP ` +
          `(${perAccountIp.points}): a stranger at one address can lock the account's owner out.`,
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

/** "a:1,b:2", already matched by RedisEnv's pattern (crossChecks checks the port range). */
function parseHostPorts(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
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
