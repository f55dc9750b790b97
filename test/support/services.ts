import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { AppConfig, loadConfig } from '../../src/config';
import { waitUntil } from './wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  restart(): Promise<void>;
}

/** A throwaway redis-server for one test file, on its own port. */
export async function startTestRedis(options: { persistent?: boolean } = {}): Promise<TestRedis> {
  const port: number = await services.freePort();
  const runDir = process.env.TEST_RUN_DIR ?? path.join(services.DATA, `test-${process.ppid}`);
  const dir = path.join(runDir, `redis-${port}`);
  let server = await services.startRedis({ dir, port, persistent: options.persistent ?? false });
  return {
    url: server.url,
    port,
    stop: () => server.stop(),
    async restart() {
      server = await services.startRedis({ dir, port, persistent: options.persistent ?? false });
    },
  };
}

/** A primary, a replica and three sentinels on loopback, for one test file. */
export interface TestSentinelRedis {
  name: string;
  sentinels: Array<{ host: string; port: number }>;
  /** The app's Sentinel settings for this setup (REDIS_URL then only gives credentials and db). */
  env: Record<string, string>;
  /** A direct URL to whichever server is the primary now (for probes and FLUSHALL). */
  primaryUrl(): Promise<string>;
  /** Kills the current primary (SIGKILL) and returns its port. */
  killPrimary(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTestSentinelRedis(name = 'mymaster'): Promise<TestSentinelRedis> {
  const runDir = process.env.TEST_RUN_DIR ?? path.join(services.DATA, `test-${process.ppid}`);
  const primaryPort: number = await services.freePort();
  const servers = new Map<number, { stop(signal?: string): Promise<void> }>();
  const startServer = async (port: number, replicaOf?: number) => {
    const dir = path.join(runDir, `redis-${port}`);
    servers.set(port, await services.startRedis({ dir, port, replicaOf }));
  };
  await startServer(primaryPort);
  const replicaPort: number = await services.freePort();
  await startServer(replicaPort, primaryPort);
  // The first sync (a BGSAVE sent over) takes a moment on a loaded machine: until it is done the
  // replica holds nothing a test wrote, and a failover would lose it all.
  await waitUntil(
    async () => /^master_link_status:up/m.test(await redisInfo(replicaPort, 'replication')),
    { timeoutMs: 30_000, message: `the replica on port ${replicaPort} to finish its first sync` },
  );
  const sentinels: Array<{ host: string; port: number; stop(): Promise<void> }> = [];
  for (let i = 0; i < 3; i += 1) {
    const port: number = await services.freePort();
    const dir = path.join(runDir, `sentinel-${port}`);
    sentinels.push(await services.startSentinel({ dir, port, primaryPort, name }));
  }
  const ask = async (): Promise<number> => {
    const probe = new Redis({ host: '127.0.0.1', port: sentinels[0].port, lazyConnect: true });
    try {
      await probe.connect();
      const reply = (await probe.call('SENTINEL', 'get-master-addr-by-name', name)) as string[];
      return Number(reply[1]);
    } finally {
      probe.disconnect();
    }
  };
  return {
    name,
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    env: {
      REDIS_SENTINELS: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: name,
    },
    primaryUrl: async () => `redis://127.0.0.1:${await ask()}`,
    async killPrimary() {
      const port = await ask();
      // Replication is asynchronous; wait until the replica has everything written so far, so
      // the test knows what the promoted replica holds.
      const primary = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      try {
        await primary.connect();
        await primary.call('WAIT', '1', '10000');
      } finally {
        primary.disconnect();
      }
      await servers.get(port)?.stop('SIGKILL');
      return port;
    },
    async stop() {
      await Promise.all(sentinels.map((s) => s.stop()));
      await Promise.all([...servers.values()].map((s) => s.stop()));
    },
  };
}

async function redisInfo(port: number, section: string): Promise<string> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  try {
    await client.connect();
    return await client.info(section);
  } finally {
    client.disconnect();
  }
}

/** A fresh database in the run's throwaway cluster (see global-setup.ts). */
export async function createTestDatabase(): Promise<string> {
  const serverUrl = process.env.TEST_POSTGRES_URL;
  if (!serverUrl)
    throw new Error('TEST_POSTGRES_URL is not set: run the e2e tests through jest (global setup)');
  const name = `test_${randomBytes(6).toString('hex')}`;
  return services.ensureDatabase(serverUrl, name);
}

export interface TestPgBouncer {
  /** postgres:// URL of the bouncer (database `postgres`); throughPgBouncer() maps another database. */
  url: string;
  port: number;
  poolSize: number;
  stop(): Promise<void>;
}

/**
 * A throwaway PgBouncer in transaction pooling mode (a server connection per transaction, as in
 * production) in front of the run's cluster, with at most `poolSize` server connections per
 * database, fewer than an app's pool, so connections are really shared between clients.
 */
export async function startTestPgBouncer(
  options: { postgresUrl?: string; poolSize?: number } = {},
): Promise<TestPgBouncer> {
  const postgresUrl = options.postgresUrl ?? process.env.TEST_POSTGRES_URL;
  if (!postgresUrl)
    throw new Error('TEST_POSTGRES_URL is not set: run the e2e tests through jest (global setup)');
  const port: number = await services.freePort();
  const runDir = process.env.TEST_RUN_DIR ?? path.join(services.DATA, `test-${process.ppid}`);
  const poolSize = options.poolSize ?? 10;
  const bouncer = await services.startPgBouncer({
    dir: path.join(runDir, `pgbouncer-${port}`),
    postgresUrl,
    port,
    poolSize,
  });
  return { url: bouncer.url, port, poolSize, stop: () => bouncer.stop() };
}

/** The same database as `databaseUrl`, reached through the PgBouncer at `bouncerUrl`. */
export function throughPgBouncer(databaseUrl: string, bouncerUrl: string): string {
  const url = new URL(databaseUrl);
  const bouncer = new URL(bouncerUrl);
  url.hostname = bouncer.hostname;
  url.port = bouncer.port;
  return url.toString();
}

/**
 * The settings of an app behind PgBouncer: queries through it, migrations (a session-level
 * advisory lock) on the direct connection.
 */
export function pgBouncerEnv(databaseUrl: string, bouncerUrl: string): Record<string, string> {
  return {
    DATABASE_URL: throughPgBouncer(databaseUrl, bouncerUrl),
    DATABASE_MIGRATION_URL: databaseUrl,
  };
}

export async function query<T = Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * The schedules, all off: they fire on the wall clock, and a payout cycle starting at the top
 * of the hour in the middle of an unrelated test would make it flaky. A test of the scheduler
 * turns on what it needs (ALL_SCHEDULES_ON).
 */
const SCHEDULES_OFF = {
  SCHEDULE_PAYOUT_CYCLE_ENABLED: 'false',
  SCHEDULE_PAYOUT_RECONCILE_ENABLED: 'false',
  SCHEDULE_ANALYTICS_DAILY_STATS_ENABLED: 'false',
  SCHEDULE_QUEUE_CLEANUP_ENABLED: 'false',
  SCHEDULE_REDIS_LOSS_CHECK_ENABLED: 'false',
};

export const ALL_SCHEDULES_ON: Record<string, string> = Object.fromEntries(
  Object.keys(SCHEDULES_OFF).map((variable) => [variable, 'true']),
);

/**
 * Environment for an app under test; quiet, fast retries, isolated key prefix, no schedule.
 * `databaseUrl` is the direct URL (the one tests query); with TEST_DATABASE_VIA_PGBOUNCER=1 the
 * global setup starts a PgBouncer and apps reach the database through it (migrations direct).
 */
export function testEnv(
  redisUrl: string,
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const bouncerUrl = process.env.TEST_PGBOUNCER_URL;
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    REDIS_URL: redisUrl,
    ...(bouncerUrl ? pgBouncerEnv(databaseUrl, bouncerUrl) : { DATABASE_URL: databaseUrl }),
    QUEUE_PREFIX: `t${randomBytes(3).toString('hex')}`,
    JOB_BACKOFF_DELAY: '50',
    SHUTDOWN_TIMEOUT: '10s',
    ...SCHEDULES_OFF,
    ...overrides,
  };
}

export function testConfig(env: Record<string, string>): AppConfig {
  return loadConfig(env);
}
