#!/usr/bin/env node
// `npm run services:stop`: stops the Redis and PostgreSQL that `npm start` started under .data/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const services = require('./lib/services.cjs');
const statePath = path.join(services.DATA, 'services.json');
const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};

if (!state.redis && !state.postgres) {
  services.log(
    'no services recorded in .data/services.json: `npm start` records the Redis and PostgreSQL it starts there',
  );
  process.exit(0);
}
if (process.argv[2] !== 'stop') {
  process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
  process.exit(0);
}
if (state.redis?.pid) {
  try {
    process.kill(state.redis.pid, 'SIGTERM');
    services.log(`stopped redis-server (pid ${state.redis.pid})`);
  } catch {
    services.log('redis-server was not running');
  }
}
if (state.postgres?.dir) {
  const bin = fs
    .readdirSync('/usr/lib/postgresql')
    .map((v) => `/usr/lib/postgresql/${v}/bin/pg_ctl`)
    .find(fs.existsSync);
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  try {
    execFileSync(asUser[0] ?? bin, [
      ...asUser.slice(1),
      ...(asUser.length ? [bin] : []),
      '-D',
      state.postgres.dir,
      '-m',
      'fast',
      'stop',
    ]);
    services.log('stopped PostgreSQL');
  } catch {
    services.log('PostgreSQL was not running');
  }
}
