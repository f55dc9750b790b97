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

async function findOrStartRedis() {
  if (env.REDIS_URL && (await services.redisReachable(env.REDIS_URL))) return env.REDIS_URL;
  if (env.REDIS_URL)
    services.log(`REDIS_URL ${env.REDIS_URL} does not answer: using a local Redis instead`);
  const state = readState();
  if (state.redis && (await services.redisReachable(state.redis.url))) return state.redis.url;
  const redis = await services.startRedis({
    dir: path.join(services.DATA, 'redis'),
    persistent: true,
    detached: true,
  });
  writeState({ ...readState(), redis: { url: redis.url, pid: redis.pid } });
  services.log(`started redis-server (AOF on) at ${redis.url}, data in .data/redis`);
  return redis.url;
}

async function findOrStartPostgres() {
  if (env.DATABASE_URL && (await services.postgresReachable(env.DATABASE_URL)))
    return env.DATABASE_URL;
  if (env.DATABASE_URL)
    services.log(`DATABASE_URL does not answer: using a local PostgreSQL instead`);
  const state = readState();
  let server =
    state.postgres && (await services.postgresReachable(state.postgres.url))
      ? state.postgres
      : undefined;
  if (!server) {
    const started = await services.startPostgres({
      dir: path.join(services.DATA, 'postgres'),
      port: state.postgres?.port,
    });
    server = { url: started.url, port: started.port, dir: started.dir };
    writeState({ ...readState(), postgres: server });
    services.log(`started PostgreSQL at ${server.url}, data in ${server.dir}`);
  }
  return services.ensureDatabase(server.url, 'payouts');
}

/** A first admin for a laptop, so the API can be tried at once; the password is kept in .data/. */
function developmentAdmin() {
  if (env.BOOTSTRAP_ADMIN_EMAIL || env.NODE_ENV === 'production') return {};
  const file = path.join(services.DATA, 'admin.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(services.DATA, { recursive: true });
    const admin = { email: 'admin@localhost', password: randomBytes(12).toString('base64url') };
    fs.writeFileSync(file, JSON.stringify(admin, null, 2), { mode: 0o600 });
  }
  const admin = JSON.parse(fs.readFileSync(file, 'utf8'));
  services.log(`log in as ${admin.email} with password ${admin.password} (from .data/admin.json)`);
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
