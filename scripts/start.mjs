#!/usr/bin/env node
// `npm start`: installs dependencies when needed, finds or starts Redis and PostgreSQL,
// builds, and runs the app (role from APP_ROLE, default all). Services it starts keep running
// in the background under .data/ (stop them with `npm run services:stop`).
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
// On a machine whose Node.js is older than the project supports, re-runs this on Node.js 24.
await require('./lib/node-runtime.cjs').ensureSupportedNode();
const setup = require('./lib/setup.cjs');
setup.ensureDependencies();

const services = require('./lib/services.cjs');
const { parse } = require('dotenv');
const envFile = path.join(setup.REPO, '.env');
const env = { ...(fs.existsSync(envFile) ? parse(fs.readFileSync(envFile)) : {}), ...process.env };
const statePath = path.join(services.DATA, 'services.json');
const readState = () =>
  fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};
const writeState = (state) => {
  fs.mkdirSync(services.DATA, { recursive: true });
  fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
};

/** A URL the user named must answer: falling back to another server would hide the mistake. */
function refuseUnreachable(variable, url) {
  let where = 'its server';
  try {
    const { hostname, port } = new URL(url);
    where = `${hostname}:${port || 'default port'}`;
  } catch {
    // not a URL: the app's configuration check names the problem when it is fixed to answer
  }
  fs.writeSync(
    2,
    `${variable} (${where}, from the environment or .env) does not answer: start that server, ` +
      `or remove ${variable} so that npm start uses the one it starts itself.\n`,
  );
  process.exit(1);
}

async function findOrStartRedis() {
  if (env.REDIS_URL) {
    if (!(await services.redisReachable(env.REDIS_URL)))
      refuseUnreachable('REDIS_URL', env.REDIS_URL);
    return env.REDIS_URL;
  }
  const state = readState();
  if (state.redis && (await services.redisReachable(state.redis.url))) return state.redis.url;
  const redis = await services.startRedis({
    dir: path.join(services.DATA, 'redis'),
    persistent: true,
    detached: true,
    port: state.redis?.port,
  });
  writeState({ ...readState(), redis: { url: redis.url, port: redis.port, pid: redis.pid } });
  services.log(`started redis-server (AOF on) at ${redis.url}, data in .data/redis`);
  return redis.url;
}

/** The server's own URL (database "postgres"), to check it answers and to create "payouts". */
const serverUrlOf = (databaseUrl) =>
  Object.assign(new URL(databaseUrl), { pathname: '/postgres' }).toString();

async function findOrStartPostgres() {
  if (env.DATABASE_URL) {
    if (!(await services.postgresReachable(env.DATABASE_URL)))
      refuseUnreachable('DATABASE_URL', env.DATABASE_URL);
    return env.DATABASE_URL;
  }
  const state = readState();
  let server =
    state.postgres && (await services.postgresReachable(serverUrlOf(state.postgres.url)))
      ? state.postgres
      : undefined;
  if (!server) {
    const started = await services.startPostgres({
      dir: path.join(services.DATA, 'postgres'),
      port: state.postgres?.port,
    });
    server = { url: started.url, port: started.port, dir: started.dir };
    services.log(`started PostgreSQL on 127.0.0.1:${server.port}, data in ${server.dir}`);
  }
  // Recorded with the app's database, so every command (seed, doctor, migrate) uses the same one.
  const url = await services.ensureDatabase(serverUrlOf(server.url), 'payouts');
  writeState({ ...readState(), postgres: { ...server, url } });
  return url;
}

/**
 * A first admin for a laptop, so the API can be tried at once. The password is printed once,
 * when it is made, and kept in .data/admin.json (readable by this user only).
 */
function developmentAdmin() {
  if (env.BOOTSTRAP_ADMIN_EMAIL || env.NODE_ENV === 'production') return {};
  const file = path.join(services.DATA, 'admin.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(services.DATA, { recursive: true });
    const admin = { email: 'admin@localhost', password: randomBytes(12).toString('base64url') };
    fs.writeFileSync(file, JSON.stringify(admin, null, 2), { mode: 0o600 });
    services.log(
      `created the first admin: log in as ${admin.email} with password ${admin.password} ` +
        '(kept in .data/admin.json)',
    );
    return { BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password };
  }
  const admin = JSON.parse(fs.readFileSync(file, 'utf8'));
  services.log(`log in as ${admin.email} (password in .data/admin.json)`);
  return { BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password };
}

const REDIS_URL = await findOrStartRedis();
const DATABASE_URL = await findOrStartPostgres();
setup.ensureBuild();

const entry = env.APP_ROLE === 'worker' ? 'worker.js' : 'main.js';
const child = spawn(process.execPath, [path.join(setup.REPO, 'dist', entry)], {
  stdio: 'inherit',
  env: { ...env, ...developmentAdmin(), REDIS_URL, DATABASE_URL },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
