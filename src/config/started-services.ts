import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ConfigProblem } from './config-error';
import type { RawEnv } from './load-config';

/**
 * Where `npm start` records the Redis and PostgreSQL it started (scripts/start.mjs writes it).
 * Resolved from this file's place (src/config or dist/config), so a command finds the services
 * of its own checkout whatever the working directory.
 */
export const STARTED_SERVICES_FILE = path.resolve(__dirname, '..', '..', '.data', 'services.json');

interface StartedServices {
  redis?: { url?: string };
  postgres?: { url?: string };
}

const startHint = (what: string, variable: string) =>
  `not set, and no ${what} started by \`npm start\` is recorded in .data/services.json: ` +
  `run \`npm start\` (it starts one), or set ${variable} in the environment or .env`;

/**
 * Fills REDIS_URL and DATABASE_URL, when neither the environment nor .env sets them, with the
 * services `npm start` started. Without either, it refuses: a silent default (127.0.0.1:6379,
 * :5432) could be a server the project did not start, and `seed` would fill the wrong database.
 */
export function withStartedServices(env: RawEnv, file = STARTED_SERVICES_FILE): RawEnv {
  const needsRedis = !env.REDIS_URL;
  const needsDatabase = !env.DATABASE_URL;
  if (!needsRedis && !needsDatabase) return env;
  const started = readStartedServices(file);
  const problems: ConfigProblem[] = [];
  const redisUrl = started.redis?.url;
  const databaseUrl = started.postgres?.url;
  if (needsRedis && !redisUrl) {
    problems.push({
      variable: 'REDIS_URL',
      expected: startHint('Redis', 'REDIS_URL'),
      got: 'nothing',
    });
  }
  if (needsDatabase && !databaseUrl) {
    problems.push({
      variable: 'DATABASE_URL',
      expected: startHint('PostgreSQL', 'DATABASE_URL'),
      got: 'nothing',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...env,
    ...(needsRedis ? { REDIS_URL: redisUrl } : {}),
    ...(needsDatabase ? { DATABASE_URL: databaseUrl } : {}),
  };
}

function readStartedServices(file: string): StartedServices {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StartedServices;
  } catch {
    // A damaged file is as good as none: the message says how to get a new one.
    return {};
  }
}
