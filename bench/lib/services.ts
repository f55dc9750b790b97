import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { REPO } from './paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require(path.join(REPO, 'scripts', 'lib', 'services.cjs'));

interface Stoppable {
  url: string;
  stop(options?: { remove?: boolean }): Promise<void>;
}

/** A PostgreSQL cluster of the run: its server URL and its data directory (postmaster.pid). */
export interface BenchCluster {
  url: string;
  dir: string;
}

export interface ClusterOptions {
  /**
   * A cluster with pg_stat_statements loaded (statements per payout, with their time). Separate
   * from the plain one, so the other scenarios' PostgreSQL does not pay for the extension.
   */
  statements?: boolean;
}

/**
 * The servers one benchmark run uses, started the way the test harness starts them: a throwaway
 * redis-server (no persistence, noeviction) and, when a scenario needs it, a throwaway
 * PostgreSQL cluster (fsync off, as in the tests), both under .data/bench-<pid>/ and stopped
 * (and removed) at the end. Never a server the benchmark did not start: it flushes Redis freely.
 */
export class BenchServices {
  readonly dir = path.join(REPO, '.data', `bench-${process.pid}`);
  private redisServer?: Stoppable;
  private readonly clusters = new Map<string, Promise<Stoppable & BenchCluster>>();
  private admin?: Redis;
  private databases = 0;

  get logDir(): string {
    const dir = path.join(this.dir, 'logs');
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  async redisUrl(): Promise<string> {
    this.redisServer ??= await services.startRedis({ dir: path.join(this.dir, 'redis') });
    return (this.redisServer as Stoppable).url;
  }

  /** A client for the orchestrator's own commands (FLUSHALL between measurements, INFO). */
  async redis(): Promise<Redis> {
    this.admin ??= new Redis(await this.redisUrl(), { maxRetriesPerRequest: 1 });
    return this.admin;
  }

  /** Every measurement starts from an empty Redis, so none inherits the previous one's keys. */
  async flushRedis(): Promise<void> {
    await (await this.redis()).flushall();
  }

  async redisMemoryBytes(): Promise<number> {
    const info = await (await this.redis()).info('memory');
    const match = /used_memory:(\d+)/.exec(info);
    return match ? Number(match[1]) : NaN;
  }

  /** The run's PostgreSQL cluster (started on first use), or its pg_stat_statements twin. */
  cluster(options: ClusterOptions = {}): Promise<BenchCluster> {
    const kind = options.statements ? 'postgres-statements' : 'postgres';
    let started = this.clusters.get(kind);
    if (!started) {
      started = services.startPostgres({
        dir: path.join(this.dir, kind),
        fast: true,
        preload: options.statements ? ['pg_stat_statements'] : [],
      }) as Promise<Stoppable & BenchCluster>;
      this.clusters.set(kind, started);
    }
    return started;
  }

  /** A fresh, empty database in the run's PostgreSQL cluster. */
  async database(name = 'bench', options: ClusterOptions = {}): Promise<string> {
    const { url } = await this.cluster(options);
    this.databases += 1;
    return services.ensureDatabase(url, `${name}_${this.databases}`);
  }

  async stop(): Promise<void> {
    this.admin?.disconnect();
    await this.redisServer?.stop();
    for (const cluster of this.clusters.values()) {
      await (await cluster.catch(() => undefined))?.stop({ remove: true });
    }
    fs.rmSync(path.join(this.dir, 'redis'), { recursive: true, force: true });
  }
}
