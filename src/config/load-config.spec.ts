import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { ConfigError } from './config-error';
import { parseDuration } from './duration';
import { allVariables, loadConfig } from './load-config';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.role).toBe('all');
    expect(config.http.port).toBe(3000);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.scheduler.distributed).toBe(true);
    expect(config.correlation.enabled).toBe(true);
    expect(config.session.ttlMs).toBe(86_400_000);
    expect(config.queue).toMatchObject({
      defaultConcurrency: 5,
      jobTimeoutMs: 300_000,
      failedRetentionMs: 7 * 86_400_000,
      cleanupIntervalMs: 3_600_000,
    });
    expect(config.shutdownTimeoutMs).toBe(30_000);
  });

  it('reads a Sentinel deployment: the sentinels, the primary name, password and TLS', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://app:secret@ignored:6379/2',
      REDIS_SENTINELS: '10.0.0.1:26379,sentinel-b.internal:26380',
      REDIS_SENTINEL_NAME: 'payouts',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_SENTINEL_TLS: 'true',
    });
    expect(config.redis.sentinel).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b.internal', port: 26380 },
      ],
      name: 'payouts',
      password: 'sentinel-secret',
      tls: true,
    });
    expect(loadConfig({}).redis.sentinel).toBeUndefined();
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', SESSION_TTL: '' }).http.port).toBe(3000);
  });

  it.each([
    ['NODE_ENV', 'staging', 'must be one of development, production, test'],
    ['PORT', 'eighty', 'must be a whole number from 0 to 65535'],
    ['PORT', '70000', 'must be a whole number from 0 to 65535'],
    ['APP_ROLE', 'scheduler', 'must be one of all, api, worker'],
    ['LOG_LEVEL', 'verbose', 'must be one of fatal, error, warn, info, debug, trace, silent'],
    ['REDIS_URL', 'http://localhost:6379', 'must be a redis:// or rediss:// URL'],
    ['REDIS_SENTINELS', 'sentinel-a', 'must be host:port pairs separated by commas'],
    ['REDIS_SENTINELS', 'a:26379;b:26379', 'must be host:port pairs separated by commas'],
    ['REDIS_SENTINELS', 'a:26379,b:99999', 'ports must be between 1 and 65535'],
    ['REDIS_SENTINEL_NAME', 'my master', 'must be 1-64 characters'],
    ['REDIS_SENTINEL_TLS', 'yes please', 'must be true or false'],
    ['DATABASE_URL', 'mysql://localhost/db', 'must be a postgres:// or postgresql:// URL'],
    ['DATABASE_MIGRATION_URL', 'localhost:5432', 'must be a postgres:// or postgresql:// URL'],
    ['USE_DISTRIBUTED_SCHEDULER', 'maybe', 'must be true or false'],
    ['ENABLE_CORRELATION_IDS', '2', 'must be true or false'],
    ['SESSION_TTL', 'forever', 'must be a duration'],
    ['SESSION_TTL', '10', 'must be a duration'],
    ['QUEUE_CLEANUP_INTERVAL', '-5m', 'must be a duration'],
    ['MAX_QUEUE_CONCURRENCY', '0', 'must be a whole number from 1 to 1000'],
    ['MAX_QUEUE_CONCURRENCY', '2.5', 'must be a whole number from 1 to 1000'],
    ['QUEUE_CONCURRENCY_PAYOUTS', 'lots', 'must be a whole number from 1 to 1000'],
    ['JOB_TIMEOUT', '0', 'must be a duration'],
    ['FAILED_JOB_RETENTION', 'a week', 'must be a duration'],
    ['SHUTDOWN_TIMEOUT', '30 seconds', 'must be a duration'],
    ['SESSION_SECRET', 'short', 'must be at least 32 characters'],
    ['QUEUE_PREFIX', 'has space', 'must be 1-64 characters'],
    ['QUEUE_LOCK_DURATION', '10', 'must be a duration'],
    ['PAYMENT_PROVIDER', 'stripe', 'must be one of simulated'],
    ['PROVIDER_TRANSIENT_FAILURE_RATE', '1.5', 'must be a number from 0 to 1'],
    ['PROVIDER_PERMANENT_FAILURE_RATE', 'often', 'must be a number from 0 to 1'],
    ['PROVIDER_FAIL_FIRST_ATTEMPTS', '-1', 'must be a whole number from 0 to 100'],
    ['PAYOUT_STUCK_AFTER', 'soon', 'must be a duration'],
    ['PAYOUT_CYCLE_BATCH_SIZE', '0', 'must be a whole number from 1 to 10000'],
    ['SMTP_URL', 'http://mail.example.test', 'must be an smtp:// or smtps:// URL'],
    ['NOTIFICATION_FROM', 'payouts team', 'must be an email address'],
    ['EXPORT_RETENTION', '1s', 'must be a duration'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', 'must be an http:// or https:// URL'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'must be one of http/protobuf, http/json'],
    ['OTEL_EXPORTER_OTLP_HEADERS', 'no pairs', 'must be key=value pairs'],
    ['OTEL_SERVICE_NAME', 'has space', 'must be 1-100 letters'],
    ['OTEL_BSP_SCHEDULE_DELAY', 'often', 'must be a duration'],
  ])('refuses %s=%j, naming it and what it must be', (variable, value, expected) => {
    const message = problemsOf({ [variable]: value });
    expect(message).toContain(`- ${variable}: ${expected}`);
  });

  it('turns tracing on only with an OTLP endpoint, naming the service after the role', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(
      loadConfig({
        APP_ROLE: 'worker',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-tenant = payouts',
      }).tracing,
    ).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: { authorization: 'Bearer abc', 'x-tenant': 'payouts' },
      serviceName: 'payouts-worker',
      scheduleDelayMs: 5000,
    });
    const named = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.test/otlp',
      OTEL_SERVICE_NAME: 'payouts-eu',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    }).tracing;
    expect(named).toMatchObject({
      tracesUrl: 'https://otlp.example.test/otlp/v1/traces',
      serviceName: 'payouts-eu',
      protocol: 'http/json',
    });
  });

  it('never prints OTLP export headers back', () => {
    const message = problemsOf({ OTEL_EXPORTER_OTLP_HEADERS: 'Bearer topsecret' });
    expect(message).toContain('OTEL_EXPORTER_OTLP_HEADERS');
    expect(message).not.toContain('topsecret');
  });

  it('lists every bad variable in one message, with what it got', () => {
    const message = problemsOf({ PORT: 'x', APP_ROLE: 'boss', SESSION_TTL: 'soon' });
    expect(message).toMatch(/Invalid configuration \(3 problems\)/);
    expect(message).toContain('PORT: must be a whole number from 0 to 65535 (got "x")');
    expect(message).toContain('APP_ROLE: must be one of all, api, worker (got "boss")');
    expect(message).toContain('SESSION_TTL: must be a duration');
  });

  it('migrates through DATABASE_MIGRATION_URL when given, else through DATABASE_URL', () => {
    const pooled = 'postgres://app:pw@pgbouncer:6432/payouts';
    const direct = 'postgres://app:pw@postgres:5432/payouts';
    expect(loadConfig({ DATABASE_URL: pooled }).database).toMatchObject({
      url: pooled,
      migrationUrl: pooled,
    });
    expect(
      loadConfig({ DATABASE_URL: pooled, DATABASE_MIGRATION_URL: direct }).database,
    ).toMatchObject({ url: pooled, migrationUrl: direct });
  });

  it('never prints secrets or passwords back', () => {
    const message = problemsOf({
      SESSION_SECRET: 'hunter2',
      DATABASE_URL: 'mysql://u:topsecret@h/db',
    });
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('topsecret');
    expect(message).toContain('SESSION_SECRET: must be at least 32 characters');
  });

  it('requires SESSION_SECRET in production, with no default', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toContain(
      'SESSION_SECRET: is required when NODE_ENV=production',
    );
    const config = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRET: 'a'.repeat(32) + ',' + 'b'.repeat(40),
    });
    expect(config.session.secrets).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
  });

  it('uses a development secret only outside production, and warns about it', () => {
    const config = loadConfig({});
    expect(config.session.usesDevelopmentSecret).toBe(true);
    expect(config.warnings().join('\n')).toContain('SESSION_SECRET is not set');
  });

  it('reads the payouts, notifications and exports settings', () => {
    const config = loadConfig({
      PROVIDER_LATENCY: '2s',
      PROVIDER_TRANSIENT_FAILURE_RATE: '0.25',
      PROVIDER_FAIL_FIRST_ATTEMPTS: '2',
      PROVIDER_HANG_RATE: '0.1',
      PROVIDER_RATE_LIMIT: '50',
      PROVIDER_TIMEOUT: '10s',
      PAYOUT_LEASE: '15s',
      PAYOUT_STUCK_AFTER: '15m',
      SMTP_URL: 'smtp://user:pw@mail.example.test:587',
      NOTIFICATION_FROM: 'Payouts <payouts@example.test>',
      QUEUE_LOCK_DURATION: '5s',
      QUEUE_STALLED_INTERVAL: '2s',
    });
    expect(config.payouts).toEqual({
      provider: {
        kind: 'simulated',
        latencyMs: 2_000,
        transientFailureRate: 0.25,
        permanentFailureRate: 0,
        failFirstAttempts: 2,
        lostResponseRate: 0,
        errorAfterCommitRate: 0,
        hangRate: 0.1,
        rateLimitPerSecond: 50,
      },
      providerTimeoutMs: 10_000,
      leaseMs: 15_000,
      stuckAfterMs: 900_000,
      cycleBatchSize: 1_000,
    });
    expect(config.notifications).toEqual({
      smtpUrl: 'smtp://user:pw@mail.example.test:587',
      from: 'Payouts <payouts@example.test>',
    });
    expect(config.queue).toMatchObject({ lockDurationMs: 5_000, stalledIntervalMs: 2_000 });
  });

  it('refuses failure rates above 1 in total, and a stalled check slower than the lock', () => {
    expect(
      problemsOf({
        PROVIDER_TRANSIENT_FAILURE_RATE: '0.6',
        PROVIDER_PERMANENT_FAILURE_RATE: '0.5',
      }),
    ).toContain(
      'PROVIDER_PERMANENT_FAILURE_RATE: plus PROVIDER_TRANSIENT_FAILURE_RATE, PROVIDER_LOST_RESPONSE_RATE',
    );
    expect(problemsOf({ QUEUE_LOCK_DURATION: '5s', QUEUE_STALLED_INTERVAL: '10s' })).toContain(
      'QUEUE_STALLED_INTERVAL: must not exceed QUEUE_LOCK_DURATION (5000 ms)',
    );
  });

  it('refuses a payout lease that does not outlast the provider call', () => {
    expect(problemsOf({ PROVIDER_TIMEOUT: '30s', PAYOUT_LEASE: '20s' })).toContain(
      'PAYOUT_LEASE: must exceed PROVIDER_TIMEOUT (30000 ms)',
    );
  });

  it('never prints SMTP_URL back (it holds the mail password)', () => {
    const message = problemsOf({ SMTP_URL: 'ftp://user:mailpass@host' });
    expect(message).toContain('SMTP_URL: must be an smtp:// or smtps:// URL');
    expect(message).not.toContain('mailpass');
  });

  it('warns about a job timeout that would cut provider calls, and a simulated provider in production', () => {
    expect(
      loadConfig({ JOB_TIMEOUT: '10s', PROVIDER_TIMEOUT: '30s' }).warnings().join('\n'),
    ).toContain('JOB_TIMEOUT (10000 ms) does not exceed PROVIDER_TIMEOUT (30000 ms)');
    expect(loadConfig({ JOB_TIMEOUT: '10s', APP_ROLE: 'api' }).warnings().join('\n')).not.toContain(
      'JOB_TIMEOUT',
    );
    const production = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) });
    expect(production.warnings().join('\n')).toContain(
      'PAYMENT_PROVIDER is "simulated" in production',
    );
  });

  it('reads the session lifetimes and login limits, and warns about settings that defeat them', () => {
    const config = loadConfig({
      SESSION_MAX_AGE: '12h',
      LOGIN_FAILURES_PER_ACCOUNT_IP: '3',
      LOGIN_ACCOUNT_IP_WINDOW: '10m',
    });
    expect(config.session).toMatchObject({ ttlMs: 86_400_000, maxAgeMs: 43_200_000 });
    expect(config.loginThrottle).toEqual({
      perAccountIp: { points: 3, windowMs: 600_000 },
      perIp: { points: 100, windowMs: 86_400_000 },
      perAccount: { points: 100, windowMs: 3_600_000 },
    });
    const warnings = config.warnings().join('\n');
    expect(warnings).toContain('SESSION_MAX_AGE (43200000 ms) is shorter than SESSION_TTL');
    expect(warnings).not.toContain('LOGIN_FAILURES_PER_ACCOUNT');
    expect(loadConfig({ LOGIN_FAILURES_PER_ACCOUNT: '5' }).warnings().join('\n')).toContain(
      'LOGIN_FAILURES_PER_ACCOUNT (5) is not above LOGIN_FAILURES_PER_ACCOUNT_IP (5)',
    );
    expect(() => loadConfig({ LOGIN_FAILURES_PER_IP: '0' })).toThrow(/LOGIN_FAILURES_PER_IP/);
  });

  it('accepts per-queue concurrency overrides', () => {
    const config = loadConfig({ MAX_QUEUE_CONCURRENCY: '4', QUEUE_CONCURRENCY_EXPORTS: '1' });
    expect(config.concurrencyFor('exports')).toBe(1);
    expect(config.concurrencyFor('payouts')).toBe(4);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1500', 1500],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '-1s', '5 minutes', '1e3'])('refuses %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('.env.example', () => {
  const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  const documented = parse(example);

  it('documents exactly the variables of the schema', () => {
    expect(Object.keys(documented).sort()).toEqual([...allVariables()].sort());
  });

  it('shows the defaults the schema applies', () => {
    const fromExample = loadConfig(documented);
    const fromDefaults = loadConfig({});
    const { raw: _a, ...exampleConfig } = fromExample;
    const { raw: _b, ...defaultConfig } = fromDefaults;
    expect(exampleConfig).toEqual(defaultConfig);
  });

  it('documents each variable with a comment line above it', () => {
    const lines = example.split('\n');
    for (const variable of allVariables()) {
      const index = lines.findIndex((line) => line.startsWith(`${variable}=`));
      // Related variables may share one comment (for example the per-queue overrides).
      let above = index - 1;
      while (above >= 0 && /^[A-Z][A-Z0-9_]*=/.test(lines[above])) above -= 1;
      expect({ variable, documented: lines[above]?.startsWith('#') }).toEqual({
        variable,
        documented: true,
      });
    }
  });
});
