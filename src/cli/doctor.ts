import 'reflect-metadata';
import Bull from 'bull';
import { sql } from 'kysely';
import { Migrator } from 'kysely';
import { loadConfig, readEnvironment } from '../config';
import { AppConfig } from '../config/app-config';
import { createDatabase } from '../database';
import { describeDatabaseProblem } from '../database/database-errors';
import { MIGRATIONS } from '../database/migrations';
import { QUEUE_NAMES } from '../queue/queue-names';
import { createRedisClient, describeRedis } from '../redis/redis-options';
import { inspectRedis, redactUrl } from '../redis/redis-preflight';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * `npm run doctor`: checks what the app needs, prints one line per check, exits 0 only when
 * every check passes.
 */
async function main(): Promise<number> {
  const checks: Check[] = [];
  let config: AppConfig;
  try {
    // eslint-disable-next-line no-restricted-syntax
    config = loadConfig(readEnvironment(process.env));
    checks.push({
      name: 'config',
      ok: true,
      detail: `NODE_ENV=${config.nodeEnv}, APP_ROLE=${config.role}, database ${redactUrl(config.database.url)}`,
    });
  } catch (error) {
    checks.push({ name: 'config', ok: false, detail: (error as Error).message });
    return report(checks);
  }

  const redis = await inspectRedis(config.redis, 3_000);
  const where = describeRedis(config.redis);
  checks.push({
    name: 'redis',
    ok: redis.reachable,
    detail: redis.reachable
      ? `${where} answers (Redis ${redis.version})`
      : `${where} is not reachable: ${redis.error}`,
  });
  if (redis.reachable) {
    checks.push({
      name: 'redis replication',
      ok: true,
      detail:
        (redis.primary ? `primary ${redis.primary}; ` : '') +
        (redis.replicas?.length ? `replicas ${redis.replicas.join(', ')}` : 'no replica'),
    });
    checks.push({
      name: 'redis eviction',
      ok: redis.evictionPolicy === 'noeviction',
      detail:
        redis.evictionPolicy === 'noeviction'
          ? 'maxmemory-policy noeviction'
          : `maxmemory-policy is ${redis.evictionPolicy}: set noeviction or Bull will lose jobs under memory pressure`,
    });
    checks.push(...(await checkQueues(config)));
  }
  checks.push(await checkDatabase(config));
  if (config.database.migrationUrl !== config.database.url) {
    checks.push(await checkMigrationDatabase(config.database.migrationUrl));
  }
  return report(checks);
}

/** The direct connection migrations use (DATABASE_MIGRATION_URL) must answer too, or no new instance starts. */
async function checkMigrationDatabase(url: string): Promise<Check> {
  const db = createDatabase({ url, poolSize: 1 });
  try {
    await sql`select 1`.execute(db);
    return { name: 'database (migrations)', ok: true, detail: `${redactUrl(url)} answers` };
  } catch (error) {
    return {
      name: 'database (migrations)',
      ok: false,
      detail: `${redactUrl(url)}: ${(error as Error).message}`,
    };
  } finally {
    await db.destroy();
  }
}

async function checkQueues(config: AppConfig): Promise<Check[]> {
  const client = createRedisClient(config.redis, {
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    return await Promise.all(
      QUEUE_NAMES.map(async (name): Promise<Check> => {
        const queue = new Bull(name, { prefix: config.redis.prefix, createClient: () => client });
        try {
          const counts = await queue.getJobCounts();
          const workers = await queue.getWorkers();
          return {
            name: `queue ${name}`,
            ok: true,
            detail: `waiting ${counts.waiting}, active ${counts.active}, delayed ${counts.delayed}, failed ${counts.failed}, workers ${workers.length}`,
          };
        } catch (error) {
          return { name: `queue ${name}`, ok: false, detail: (error as Error).message };
        }
      }),
    );
  } finally {
    client.disconnect();
  }
}

async function checkDatabase(config: AppConfig): Promise<Check> {
  const db = createDatabase({ url: config.database.url, poolSize: 1 });
  try {
    const { rows } = await sql<{ server_version: string }>`show server_version`.execute(db);
    const migrations = await new Migrator({
      db,
      provider: { getMigrations: async () => MIGRATIONS },
    }).getMigrations();
    const pending = migrations.filter((m) => !m.executedAt).map((m) => m.name);
    return {
      name: 'database',
      ok: true,
      detail:
        `PostgreSQL ${rows[0]?.server_version} answers; ` +
        (pending.length === 0
          ? 'schema up to date'
          : `pending migrations (applied at start or by npm run migrate): ${pending.join(', ')}`),
    };
  } catch (error) {
    return {
      name: 'database',
      ok: false,
      detail: describeDatabaseProblem(error, config.database.url),
    };
  } finally {
    await db.destroy();
  }
}

function report(checks: Check[]): number {
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const check of checks) {
    process.stdout.write(
      `${check.ok ? 'OK  ' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.detail}\n`,
    );
  }
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(failed === 0 ? 'All checks passed.\n' : `${failed} check(s) failed.\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`doctor crashed: ${error.message}\n`);
    process.exit(2);
  },
);
