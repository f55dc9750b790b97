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

/**
 * The servers one benchmark run uses, started the way the test harness starts them: a throwaway
 * redis-server (no persistence, noeviction) and, when a scenario needs it, a throwaway
 * PostgreSQL cluster (fsync off, as in the tests), both under .data/bench-<pid>/ and stopped
 * (and removed) at the end. Never a server the benchmark did not start: it flushes Redis freely.
 */
export class BenchServices {
  readonly dir = path.join(REPO, '.data', `bench-${process.pid}`);
  private redisServer?: Stoppable;
  private postgresServer?: Stoppable;
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

  /** A fresh, empty database in the run's PostgreSQL cluster. */
  async database(name = 'bench'): Promise<string> {
    this.postgresServer ??= await services.startPostgres({
      dir: path.join(this.dir, 'postgres'),
      fast: true,
    });
    this.databases += 1;
    return services.ensureDatabase(
      (this.postgresServer as Stoppable).url,
      `${name}_${this.databases}`,
    );
  }

  async stop(): Promise<void> {
    this.admin?.disconnect();
    await this.redisServer?.stop();
    await this.postgresServer?.stop({ remove: true });
    fs.rmSync(path.join(this.dir, 'redis'), { recursive: true, force: true });
  }
}
