import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Bull from 'bull';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { QUEUE_NAMES, QueueName } from '../../src/queue/queue-names';
import { waitUntil } from '../support/wait';
import { ChaosProcess } from './support/chaos-process';
import { HostNetwork } from './support/hosts';
import { Endpoint, HttpClient, Session } from './support/http-client';
import { ChaosPostgres, ChaosRedis, ChaosSentinel } from './support/servers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

export const ADMIN = { email: 'chaos-admin@example.com', password: 'chaos admin password 0123' };

export interface ClusterOptions {
  name: string;
  network: HostNetwork;
  postgres: ChaosPostgres;
  /** The run's folder (Redis AOF, sockets). */
  runDir: string;
  appendfsync: 'always' | 'everysec';
  /** Scenario settings on top of the chaos defaults (for example the provider's failure rate). */
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** Redis as a Sentinel deployment (a primary, a replica, three sentinels) instead of one server. */
  sentinel?: boolean;
}

/** The data nodes of a Sentinel deployment and the sentinels watching them. */
export interface SentinelDeployment {
  name: string;
  nodes: ChaosRedis[];
  sentinels: ChaosSentinel[];
}

/** One API instance: its process, the HTTP client that reaches it, and its forwarder if any. */
interface ApiInstance {
  host: string;
  port: number;
  process: ChaosProcess;
  client: HttpClient;
  forwarder?: ChildProcess;
}

/**
 * A scenario's cluster: its own Redis (AOF) and database, 2 API and 3 worker processes from
 * dist/ on their test hosts, an admin session, and the driver's own view of Redis and
 * PostgreSQL (over Unix sockets) to check what happened.
 */
export class ChaosCluster {
  readonly apis: ApiInstance[] = [];
  readonly workers: ChaosProcess[] = [];
  /** Every process started, killed ones included (for the report). */
  readonly history: ChaosProcess[] = [];
  session!: Session;
  /** Settings the next started workers get on top of the scenario's (a provider turning bad). */
  workerOverrides: Record<string, string> = {};
  readonly prefix = '{chaos}';
  private readonly queues = new Map<QueueName, Bull.Queue>();
  private readonly redisClients: Redis[] = [];
  private poolInstance?: Pool;

  /**
   * The socket the driver's clients use: the server's own, or with Sentinel a symlink to the
   * current primary's, re-pointed after a failover (the clients reconnect through it).
   */
  private readonly driverSocket: string;

  private constructor(
    readonly options: ClusterOptions,
    /** The server the app writes to (with Sentinel: the primary as of the last followPrimary()). */
    public redis: ChaosRedis,
    readonly database: string,
    readonly sentinel?: SentinelDeployment,
  ) {
    this.driverSocket = sentinel
      ? path.join(options.runDir, `redis-${database}-primary.sock`)
      : redis.socket;
    if (sentinel) fs.symlinkSync(redis.socket, this.driverSocket);
  }

  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const { network, postgres, runDir, name } = options;
    const database = `chaos_${name.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
    const admin = new Pool(postgres.clientConfig('postgres'));
    try {
      await admin.query(`create database "${database}"`);
    } finally {
      await admin.end();
    }
    const redis = await ChaosRedis.start({
      host: network.host('redis'),
      dir: path.join(runDir, `redis-${database}`),
      port: await freePort(),
      appendfsync: options.appendfsync,
    });
    const sentinel = options.sentinel
      ? await startSentinelDeployment(options, database, redis).catch(async (error) => {
          await redis.stop('SIGKILL');
          throw error;
        })
      : undefined;
    const cluster = new ChaosCluster(options, redis, database, sentinel);
    try {
      if (sentinel) await cluster.waitForSentinels();
      // The first API applies the migrations and creates the admin; the rest start together.
      await cluster.startApi(0);
      await Promise.all([cluster.startApi(1), ...[0, 1, 2].map((i) => cluster.startWorker(i))]);
      cluster.session = await cluster.apis[0].client.login(ADMIN.email, ADMIN.password);
      await cluster.waitForWorkers(3);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The environment every process gets (scenario settings on top). */
  baseEnv(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_URL: this.redis.url,
      ...(this.sentinel && {
        REDIS_SENTINELS: this.sentinel.sentinels.map((s) => s.endpoint).join(','),
        REDIS_SENTINEL_NAME: this.sentinel.name,
      }),
      DATABASE_URL: this.options.postgres.url(this.database),
      // Bull's hash-tagged prefix, as on Redis Cluster (docs/deployment.md).
      QUEUE_PREFIX: this.prefix,
      SESSION_SECRET: 'chaos-suite-session-secret-0123456789abcdef',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      JOB_ATTEMPTS: '10',
      JOB_BACKOFF_DELAY: '200',
      // Every job stays visible until the checks ran.
      COMPLETED_JOB_RETENTION: '1000000',
      SHUTDOWN_TIMEOUT: '20s',
      DATABASE_POOL_SIZE: '8',
      PROVIDER_LATENCY: '50ms',
      PAYOUT_STUCK_AFTER: '20s',
      // A dead or frozen worker's payouts are taken over 8 s after its claim.
      PROVIDER_TIMEOUT: '5s',
      PAYOUT_LEASE: '8s',
      // Shorter than the defaults (30 s / 15 s) so a killed worker's jobs come back sooner.
      QUEUE_LOCK_DURATION: '10s',
      QUEUE_STALLED_INTERVAL: '5s',
      ...this.options.env,
    };
  }

  async startApi(index: number): Promise<void> {
    const hostName = `api${index + 1}`;
    const host = this.options.network.host(hostName);
    const port: number = this.apis[index]?.port ?? (await freePort());
    const child = new ChaosProcess(hostName, host, 'main', {
      ...this.baseEnv(),
      APP_ROLE: 'api',
      HOST: host.address,
      PORT: String(port),
    });
    this.history.push(child);
    let endpoint: Endpoint = { host: host.address, port };
    let forwarder = this.apis[index]?.forwarder;
    if (this.options.network.kind === 'netns' && !forwarder) {
      const socketPath = path.join(this.options.runDir, `${hostName}.sock`);
      const line = host.wrap(process.execPath, [
        path.join(__dirname, 'support', 'forwarder.cjs'),
        ...[socketPath, host.address, String(port)],
      ]);
      forwarder = spawn(line.command, line.args, { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        forwarder?.stdout?.once('data', () => resolve());
        forwarder?.once('exit', (code) => reject(new Error(`forwarder exited (${code})`)));
      });
    }
    if (forwarder) endpoint = { socketPath: path.join(this.options.runDir, `${hostName}.sock`) };
    const client = this.apis[index]?.client ?? new HttpClient(hostName, endpoint);
    this.apis[index] = { host: hostName, port, process: child, client, forwarder };
    await child.waitReady();
  }

  async startWorker(index: number): Promise<ChaosProcess> {
    const hostName = `worker${index + 1}`;
    const child = new ChaosProcess(hostName, this.options.network.host(hostName), 'worker', {
      ...this.baseEnv(),
      ...this.options.workerEnv,
      ...this.workerOverrides,
      APP_ROLE: 'worker',
    });
    this.history.push(child);
    this.workers[index] = child;
    await child.waitReady();
    return child;
  }

  /** Workers attached to the payouts queue (Bull's CLIENT LIST of its blocking clients). */
  async workerCount(): Promise<number> {
    return (await this.queue(QueueName.Payouts).getWorkers()).length;
  }

  async waitForWorkers(count: number, timeoutMs = 60_000): Promise<void> {
    await waitUntil(async () => (await this.workerCount()) >= count, {
      timeoutMs,
      message: `${count} workers to attach to the payouts queue`,
    });
  }

  api(index: number): HttpClient {
    return this.apis[index].client;
  }

  /** The driver's pool on the scenario's database. */
  get db(): Pool {
    if (!this.poolInstance) {
      this.poolInstance = new Pool({
        ...this.options.postgres.clientConfig(this.database),
        max: 4,
        // Spared by the scenario that terminates the app's connections.
        application_name: 'chaos-driver',
      });
      this.poolInstance.on('error', () => undefined);
    }
    return this.poolInstance;
  }

  async sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.db.query(text, values)).rows as T[];
  }

  /** The driver's view of a queue (read-only use: counts, jobs). */
  queue(name: QueueName): Bull.Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Bull(name, {
        prefix: this.prefix,
        redis: { path: this.driverSocket, maxRetriesPerRequest: null, enableReadyCheck: false },
      });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  allQueues(): Bull.Queue[] {
    return QUEUE_NAMES.map((name) => this.queue(name));
  }

  /** A plain client for raw commands (ZRANGE of job ids, CLIENT LIST). */
  redisClient(): Redis {
    const client = new Redis({ path: this.driverSocket, maxRetriesPerRequest: 2 });
    client.on('error', () => undefined);
    this.redisClients.push(client);
    return client;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.workers, ...this.apis.map((api) => api?.process)]
        .filter((child): child is ChaosProcess => child !== undefined)
        .map((child) => child.stop('SIGKILL')),
    );
    for (const api of this.apis) {
      api?.forwarder?.kill('SIGTERM');
      api?.client.close();
    }
    await Promise.all(
      [...this.queues.values()].map((queue) => queue.close().catch(() => undefined)),
    );
    for (const client of this.redisClients) client.disconnect();
    await this.poolInstance?.end().catch(() => undefined);
    await this.redis.stop('SIGKILL');
    for (const server of [...(this.sentinel?.sentinels ?? []), ...(this.sentinel?.nodes ?? [])])
      await server.stop('SIGKILL');
  }

  /** Asks a sentinel (over its socket) which data node is the primary now. */
  async sentinelPrimary(): Promise<ChaosRedis | undefined> {
    const deployment = this.sentinel;
    if (!deployment) throw new Error('This cluster has no sentinels');
    for (const sentinel of deployment.sentinels) {
      // A sentinel that does not answer (undefined): ask the next one.
      const primary = await overSocket(sentinel.socket, async (client) => {
        const [address, port] = (await client.call(
          'SENTINEL',
          'get-master-addr-by-name',
          deployment.name,
        )) as [string, string];
        return deployment.nodes.find((n) => n.address === address && n.port === Number(port));
      });
      if (primary) return primary;
    }
    return undefined;
  }

  /**
   * Waits until the sentinels name another primary than `previous` and that node says it is
   * one, then points the driver at it.
   */
  async followPrimary(previous: ChaosRedis, timeoutMs = 60_000): Promise<ChaosRedis> {
    let primary: ChaosRedis | undefined;
    await waitUntil(
      async () => {
        primary = await this.sentinelPrimary();
        return (
          primary !== undefined && primary !== previous && (await serverRole(primary)) === 'master'
        );
      },
      { timeoutMs, intervalMs: 50, message: 'the sentinels to promote the replica' },
    );
    const promoted = primary as ChaosRedis;
    const next = `${this.driverSocket}.next`;
    fs.symlinkSync(promoted.socket, next);
    fs.renameSync(next, this.driverSocket);
    this.redis = promoted;
    return promoted;
  }

  /** The replica in sync, and every sentinel knowing it and the two others (a quorum for a failover). */
  private async waitForSentinels(): Promise<void> {
    const deployment = this.sentinel as SentinelDeployment;
    await waitUntil(
      async () => {
        for (const sentinel of deployment.sentinels) {
          const ready = await overSocket(sentinel.socket, async (client) => {
            const replicas = (await client.call(
              'SENTINEL',
              'replicas',
              deployment.name,
            )) as string[][];
            const others = (await client.call(
              'SENTINEL',
              'sentinels',
              deployment.name,
            )) as string[][];
            const linked = replicas.filter((fields) => {
              const flags = fields[fields.indexOf('flags') + 1] ?? '';
              const link = fields[fields.indexOf('master-link-status') + 1];
              return !/down|disconnected/.test(flags) && link === 'ok';
            });
            return linked.length >= 1 && others.length >= 2;
          });
          if (!ready) return false;
        }
        return true;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: 'the sentinels to know the replica and each other',
      },
    );
  }
}

/** ROLE of a data node over its socket ('master', 'slave'), or undefined when it does not answer. */
async function serverRole(node: ChaosRedis): Promise<string | undefined> {
  return overSocket(node.socket, async (client) => ((await client.call('ROLE')) as string[])[0]);
}

/** One question to a Redis server or sentinel over its socket; undefined when it does not answer. */
async function overSocket<T>(
  socket: string,
  ask: (client: Redis) => Promise<T>,
): Promise<T | undefined> {
  const client = new Redis({ path: socket, lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await ask(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** A replica of `primary` on the redis2 host and three sentinels (on redis, redis2 and db). */
async function startSentinelDeployment(
  options: ClusterOptions,
  database: string,
  primary: ChaosRedis,
): Promise<SentinelDeployment> {
  const { network, runDir } = options;
  const replica = await ChaosRedis.start({
    host: network.host('redis2'),
    dir: path.join(runDir, `redis-${database}-replica`),
    port: await freePort(),
    appendfsync: options.appendfsync,
    replicaOf: { address: primary.address, port: primary.port },
  });
  const name = 'chaos';
  const sentinels: ChaosSentinel[] = [];
  for (const [index, hostName] of ['redis', 'redis2', 'db'].entries()) {
    sentinels.push(
      await ChaosSentinel.start({
        host: network.host(hostName),
        dir: path.join(runDir, `sentinel-${database}-${index + 1}`),
        port: await freePort(),
        name,
        primary: { address: primary.address, port: primary.port },
      }),
    );
  }
  return { name, nodes: [primary, replica], sentinels };
}
