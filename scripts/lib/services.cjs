// Finds or starts the Redis and PostgreSQL servers the app and its tests need.
// Used by scripts/start.mjs (long-lived, under .data/) and the Jest global setup (throwaway).
// CommonJS on purpose: both ESM scripts and Jest (CommonJS) load it.
'use strict';

const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const DATA = path.join(REPO, '.data');

function log(message) {
  process.stderr.write(`[services] ${message}\n`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function which(binary) {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

let aptUpdated = false;
/** Installs Debian packages when running as root; otherwise says exactly what is missing. */
function installOrExplain(packages, what) {
  if (!isRoot() || !which('apt-get')) {
    throw new Error(
      `${what} is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')}), ` +
        'or point the URL variable (REDIS_URL / DATABASE_URL) at a running server.',
    );
  }
  log(`${what} is missing: installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portOpen(host, port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

// ---------------------------------------------------------------- Redis

/** PING answered; `target` is a redis:// URL or ioredis options (a Unix socket path, say). */
async function redisReachable(target) {
  const Redis = require('ioredis');
  const once = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1500,
  };
  const client =
    typeof target === 'string' ? new Redis(target, once) : new Redis({ ...target, ...once });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function redisServerBinary() {
  let binary = which('redis-server');
  if (!binary) {
    installOrExplain(['redis-server'], 'redis-server');
    binary = which('redis-server');
  }
  return binary;
}

/**
 * Starts a redis-server on loopback.
 * persistent: AOF on (the long-lived dev server); otherwise nothing is written to disk.
 * detached: survives this process (the start command); otherwise stopped with stop().
 */
async function startRedis({
  dir,
  port,
  persistent = false,
  appendfsync = 'everysec',
  detached = false,
  replicaOf,
}) {
  const binary = redisServerBinary();
  port = port ?? (await freePort());
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    persistent ? 'yes' : 'no',
    '--appendfsync',
    appendfsync,
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    '--logfile',
    path.join(dir, 'redis.log'),
    ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
  ];
  const child = spawn(binary, args, { detached, stdio: 'ignore' });
  if (detached) child.unref();
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => redisReachable(url), `redis-server on port ${port}`);
  return {
    url,
    port,
    pid: child.pid,
    args,
    /** SIGTERM: a clean shutdown; SIGKILL: the server dies as in a crash. */
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * Starts a Redis Sentinel on loopback (`redis-server <conf> --sentinel`) watching the primary on
 * `primaryPort` under `name`. Short timings, so a test sees a failover within seconds: the primary
 * is taken as down after 1 s without an answer, and `quorum` sentinels must agree.
 */
async function startSentinel({ dir, port, primaryPort, name = 'mymaster', quorum = 2 }) {
  const binary = redisServerBinary();
  port = port ?? (await freePort());
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'sentinel.conf');
  // Sentinel rewrites its config file (known replicas, other sentinels, epochs): one per sentinel.
  fs.writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `logfile ${path.join(dir, 'sentinel.log')}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} ${quorum}`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, [conf, '--sentinel'], { stdio: 'ignore' });
  await waitFor(
    () => redisReachable(`redis://127.0.0.1:${port}`),
    `redis sentinel on port ${port}`,
  );
  return {
    host: '127.0.0.1',
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

async function postgresReachable(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function postgresBinDir() {
  const find = () => {
    const root = '/usr/lib/postgresql';
    const versions = fs.existsSync(root)
      ? fs
          .readdirSync(root)
          .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
          .sort((a, b) => Number(b) - Number(a))
      : [];
    if (versions.length > 0) return path.join(root, versions[0], 'bin');
    const initdb = which('initdb');
    return initdb ? path.dirname(initdb) : undefined;
  };
  let dir = find();
  if (!dir) {
    installOrExplain(['postgresql'], 'PostgreSQL (initdb, pg_ctl)');
    dir = find();
  }
  return dir;
}

/** The `postgres` system user, created when missing (root only). */
function ensureServerUser() {
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
    execFileSync('useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
  }
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` system user. */
function asServerUser(command, args, options = {}) {
  if (!isRoot()) return execFileSync(command, args, { stdio: 'pipe', ...options });
  ensureServerUser();
  return execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], {
    stdio: 'pipe',
    ...options,
  });
}

function serverUserCanUse(dir) {
  if (!isRoot()) return true;
  fs.mkdirSync(dir, { recursive: true });
  return spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir]).status === 0;
}

/** `dir`, or a folder under the temp dir when the postgres user cannot reach `dir` (root only). */
function serverUserDir(dir, tag, what) {
  if (serverUserCanUse(dir)) return dir;
  // The repository sits where the postgres user cannot reach (for example under /root).
  // Named by a hash of the whole path: two checkouts must not share (or reuse) one server's files.
  const hash = require('node:crypto').createHash('sha256').update(dir).digest('hex');
  const fallback = path.join(os.tmpdir(), `payouts-jobs-${tag}-${hash.slice(0, 16)}`);
  log(`the postgres user cannot reach ${dir}; keeping ${what} in ${fallback}`);
  return fallback;
}

/**
 * Starts (creating it on first use) a PostgreSQL cluster in `dir`, on loopback, trust auth,
 * superuser `postgres`. `fast` trades durability for speed (tests only). `preload` names server
 * libraries loaded at start (`shared_preload_libraries`, e.g. pg_stat_statements for the bench).
 */
async function startPostgres({ dir, port, fast = false, preload = [] }) {
  const bin = postgresBinDir();
  port = port ?? (await freePort());
  dir = serverUserDir(dir, 'pg', 'the cluster');
  fs.mkdirSync(dir, { recursive: true });
  if (isRoot()) execFileSync('chown', ['-R', 'postgres', dir]);
  fs.chmodSync(dir, 0o700);
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    asServerUser(path.join(bin, 'initdb'), [
      '-D',
      dir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
  }
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${os.tmpdir()}`,
    '-c max_connections=300',
    ...(fast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ...(preload.length > 0 ? [`-c shared_preload_libraries=${preload.join(',')}`] : []),
  ].join(' ');
  asServerUser(path.join(bin, 'pg_ctl'), [
    '-D',
    dir,
    '-o',
    settings,
    '-l',
    path.join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(() => postgresReachable(url), `PostgreSQL on port ${port}`);
  return {
    url,
    port,
    dir,
    async stop({ remove = false } = {}) {
      try {
        asServerUser(path.join(bin, 'pg_ctl'), ['-D', dir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      if (remove) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a database if it does not exist yet. */
async function ensureDatabase(serverUrl, name) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await client.query(`create database "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---------------------------------------------------------------- PgBouncer

function pgbouncerBinary() {
  const find = () =>
    which('pgbouncer') ??
    (fs.existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : undefined);
  let binary = find();
  if (!binary) {
    installOrExplain(['pgbouncer'], 'PgBouncer');
    binary = find();
  }
  return binary;
}

/**
 * Starts a PgBouncer on loopback in front of the PostgreSQL at `postgresUrl`, in transaction
 * pooling mode (a server connection is lent for one transaction, as most production PostgreSQL
 * is fronted). Every database of that server is reachable through it under the same name.
 * Auth is trust, like the throwaway cluster behind it; the user list names the URL's user.
 * Stopped with stop() (the test teardown does).
 */
async function startPgBouncer({ dir, postgresUrl, port, poolSize = 20, maxClientConn = 1000 }) {
  const binary = pgbouncerBinary();
  port = port ?? (await freePort());
  const server = new URL(postgresUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  dir = serverUserDir(dir, 'pgbouncer', "PgBouncer's files");
  fs.mkdirSync(dir, { recursive: true });
  const userlist = path.join(dir, 'userlist.txt');
  fs.writeFileSync(userlist, `"${user.replace(/"/g, '""')}" ""\n`);
  const configFile = path.join(dir, 'pgbouncer.ini');
  fs.writeFileSync(
    configFile,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      // No Unix socket: it would collide between instances in one socket directory.
      'unix_socket_dir =',
      'pool_mode = transaction',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      `default_pool_size = ${poolSize}`,
      `max_client_conn = ${maxClientConn}`,
      // What some drivers send at start (JDBC, older psql); node-postgres sends only user and database.
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      'admin_users = ' + user,
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root: -u drops to the postgres user, who owns these files.
  if (isRoot()) {
    ensureServerUser();
    execFileSync('chown', ['-R', 'postgres', dir]);
  }
  const args = [...(isRoot() ? ['-u', 'postgres'] : []), configFile];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = new URL(postgresUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) {
        throw new Error(`pgbouncer exited with code ${child.exitCode}: ${stderr.trim()}`);
      }
      return postgresReachable(url.toString());
    }, `PgBouncer on port ${port}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: url.toString(),
    port,
    dir,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // SIGTERM is an immediate shutdown up to PgBouncer 1.22 (Debian 12 has 1.18); from 1.23 on
      // it waits for the clients to leave, so a client still connected gets a few seconds.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

module.exports = {
  DATA,
  REPO,
  ensureDatabase,
  freePort,
  isRoot,
  log,
  pgbouncerBinary,
  portOpen,
  postgresBinDir,
  postgresReachable,
  redisReachable,
  redisServerBinary,
  startPgBouncer,
  startPostgres,
  startRedis,
  startSentinel,
  waitFor,
};
