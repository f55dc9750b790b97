import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RedisOptions } from 'ioredis';
import { ClientConfig } from 'pg';
import { waitUntil } from '../../support/wait';
import { Host } from './hosts';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../../scripts/lib/services.cjs');

/*
 * Redis and PostgreSQL for the chaos suite, each on its test host, listening on the host's
 * address (what the app processes use) and on a Unix socket in the run's folder (what the test
 * driver uses: sockets are reachable from the root namespace, which gets no private address).
 */

/** redis-server's path; installed (apt-get as root) or explained by the project's start helper. */
const redisBinary = (): string => services.redisServerBinary();

export interface RedisServerOptions {
  host: Host;
  dir: string;
  port: number;
  appendfsync: 'always' | 'everysec';
  /** Starts as a replica of that server (a Sentinel deployment's second data node). */
  replicaOf?: { address: string; port: number };
}

/** A redis-server with AOF persistence that can be killed and started again from its AOF. */
export class ChaosRedis {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly socket: string;

  private constructor(
    private readonly options: RedisServerOptions,
    private readonly binary: string,
  ) {
    this.socket = path.join(options.dir, 'redis.sock');
  }

  static async start(options: RedisServerOptions): Promise<ChaosRedis> {
    fs.mkdirSync(options.dir, { recursive: true });
    const redis = new ChaosRedis(options, redisBinary());
    await redis.start();
    return redis;
  }

  /** What the app processes use. */
  get url(): string {
    return `redis://${this.options.host.address}:${this.options.port}`;
  }

  get address(): string {
    return this.options.host.address;
  }

  get port(): number {
    return this.options.port;
  }

  /** What the test driver uses. */
  clientOptions(extra: RedisOptions = {}): RedisOptions {
    return { path: this.socket, ...extra };
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.signalCode;
  }

  async start(): Promise<void> {
    const { host, dir, port, appendfsync, replicaOf } = this.options;
    const args = [
      ...['--port', String(port), '--bind', host.address],
      ...['--unixsocket', this.socket, '--unixsocketperm', '700'],
      ...['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', appendfsync],
      ...['--maxmemory-policy', 'noeviction', '--daemonize', 'no'],
      // Bound to a private test address without a password: protected mode would refuse clients.
      ...['--protected-mode', host.address === '127.0.0.1' ? 'yes' : 'no'],
      ...['--logfile', path.join(dir, 'redis.log')],
      ...(replicaOf ? ['--replicaof', replicaOf.address, String(replicaOf.port)] : []),
    ];
    const { command, args: wrapped } = host.wrap(this.binary, args);
    const child = spawn(command, wrapped, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitUntil(() => this.ping(), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `redis-server on ${host.name} to answer (see ${dir}/redis.log)`,
    });
  }

  /** SIGKILL: a crash. With AOF, every acknowledged write is already in the file's page cache. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill(signal);
    await this.exited;
  }

  ping(): Promise<boolean> {
    return services.redisReachable(this.clientOptions({}));
  }
}

export interface SentinelOptions {
  host: Host;
  dir: string;
  port: number;
  /** The name the sentinels know the primary by (REDIS_SENTINEL_NAME). */
  name: string;
  primary: { address: string; port: number };
}

/**
 * A Redis Sentinel (`redis-server <conf> --sentinel`) on its test host, with short timings so a
 * failover takes seconds: the primary is down after 1 s without an answer, 2 of 3 must agree.
 * Like the data nodes it also listens on a Unix socket, for the driver.
 */
export class ChaosSentinel {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly socket: string;

  private constructor(readonly options: SentinelOptions) {
    this.socket = path.join(options.dir, 'sentinel.sock');
  }

  static async start(options: SentinelOptions): Promise<ChaosSentinel> {
    const { host, dir, port, name, primary } = options;
    fs.mkdirSync(dir, { recursive: true });
    const sentinel = new ChaosSentinel(options);
    const conf = path.join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file (replicas, other sentinels, epochs): one per sentinel.
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${host.address}`,
        `unixsocket ${sentinel.socket}`,
        'unixsocketperm 700',
        `protected-mode ${host.address === '127.0.0.1' ? 'yes' : 'no'}`,
        `dir ${dir}`,
        `logfile ${path.join(dir, 'sentinel.log')}`,
        `sentinel monitor ${name} ${primary.address} ${primary.port} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const { command, args } = host.wrap(redisBinary(), [conf, '--sentinel']);
    const child = spawn(command, args, { stdio: 'ignore' });
    sentinel.child = child;
    sentinel.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitUntil(() => services.redisReachable({ path: sentinel.socket }), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `sentinel on ${host.name} to answer (see ${dir}/sentinel.log)`,
    });
    return sentinel;
  }

  /** host:port as the app's REDIS_SENTINELS lists it. */
  get endpoint(): string {
    return `${this.options.host.address}:${this.options.port}`;
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode) return;
    this.child.kill(signal);
    await this.exited;
  }
}

/** The newest installed PostgreSQL's bin/ (installed or explained by the start helper). */
function postgresBinDir(): string {
  const dir: string | undefined = services.postgresBinDir();
  if (!dir) throw new Error('PostgreSQL (initdb, pg_ctl) is not installed');
  return dir;
}

const isRoot = (): boolean => services.isRoot();

/** PostgreSQL refuses to run as root: as root, its files and processes belong to `postgres`. */
function asServerUser(host: Host, command: string, args: string[]): void {
  const line = isRoot()
    ? host.wrap('runuser', ['-u', 'postgres', '--', command, ...args])
    : host.wrap(command, args);
  execFileSync(line.command, line.args, { stdio: 'pipe' });
}

/** One PostgreSQL cluster per suite run on the db host; each scenario gets its own database. */
export class ChaosPostgres {
  private constructor(
    private readonly host: Host,
    private readonly dir: string,
    readonly port: number,
    private readonly socketDir: string,
  ) {}

  static async start(host: Host, dir: string, port: number): Promise<ChaosPostgres> {
    const bin = postgresBinDir();
    const data = path.join(dir, 'data');
    const socketDir = path.join(dir, 'socket');
    fs.mkdirSync(data, { recursive: true });
    fs.mkdirSync(socketDir, { recursive: true });
    if (isRoot()) {
      if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
        execFileSync('useradd', [
          '--system',
          '--no-create-home',
          '--shell',
          '/usr/sbin/nologin',
          'postgres',
        ]);
      }
      execFileSync('chown', ['-R', 'postgres', dir]);
    }
    fs.chmodSync(data, 0o700);
    asServerUser(host, path.join(bin, 'initdb'), [
      ...['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    ]);
    // The app hosts connect over the test network (trust: a throwaway cluster on private addresses).
    const network = host.address.split('.').slice(0, 2).concat('0', '0').join('.');
    fs.appendFileSync(path.join(data, 'pg_hba.conf'), `host all all ${network}/16 trust\n`);
    const settings = [
      `-p ${port}`,
      `-c listen_addresses=${host.address}`,
      `-k ${socketDir}`,
      '-c max_connections=400',
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
    ].join(' ');
    asServerUser(host, path.join(bin, 'pg_ctl'), [
      ...[
        '-D',
        data,
        '-o',
        settings,
        '-l',
        path.join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ],
    ]);
    return new ChaosPostgres(host, dir, port, socketDir);
  }

  /** What the app processes use. */
  url(database: string): string {
    return `postgres://postgres@${this.host.address}:${this.port}/${database}`;
  }

  /** What the test driver uses (the Unix socket). */
  clientConfig(database: string): ClientConfig {
    return { host: this.socketDir, port: this.port, user: 'postgres', database };
  }

  async stop(): Promise<void> {
    try {
      asServerUser(this.host, path.join(postgresBinDir(), 'pg_ctl'), [
        ...['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'],
      ]);
    } catch {
      // already stopped
    }
  }
}
