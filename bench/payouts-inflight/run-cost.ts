import type Redis from 'ioredis';
import { postgresCpuMs, processCpuMs } from '../lib/process-cpu';
import { OBSERVER_MARK, ObserverClient } from '../payout-cycle/payout-stack';

/** One statement as pg_stat_statements counts it (normalized text, $n for constants). */
export interface StatementCost {
  query: string;
  calls: number;
  totalMs: number;
  rows: number;
}

export interface RunCost {
  workerCpuMs: number;
  postgresCpuMs: number;
  /** Part of postgresCpuMs: the backends of the simulated provider's pool (an outside system's cost). */
  providerBackendsCpuMs: number;
  redisCpuMs: number;
  commits: number;
  /** Every command Redis ran (INFO commandstats): a Lua script is one EVALSHA plus each command it calls. */
  redisCommands: number;
  redisScripts: number;
  /** Calls per Redis command (the orchestrator's own INFO and polling commands included). */
  redisByCommand: Record<string, number>;
  /** Top-level statements (BEGIN and COMMIT included), from pg_stat_statements. */
  statements: StatementCost[];
}

interface Counters {
  workerCpuMs: number;
  postgresCpuMs: number;
  redisCpuMs: number;
  redisCalls: Map<string, number>;
}

/**
 * What a measured stretch of work cost the worker process, the PostgreSQL cluster and Redis:
 * CPU (from /proc and INFO cpu), commits (pg_stat_database of the run's database), statements
 * (pg_stat_statements) and Redis commands (INFO commandstats). The orchestrator's own traffic
 * is left out: its statements carry the observer's marker comment (left out of the statements),
 * its backends' CPU is not counted, and its commits and Redis commands are subtracted by count.
 */
export class RunCostMeter {
  private start?: Counters;
  private providerBackendsAtStart = new Map<number, number>();
  private commitsBefore = 0;
  private redisCommandsOwn = 0;

  private constructor(
    private readonly admin: ObserverClient,
    private readonly redis: Redis,
    private readonly clusterDir: string,
    private readonly databaseName: string,
    private readonly workerPid: number,
    private readonly observers: ObserverClient[],
  ) {}

  /**
   * `adminUrl` is the cluster's `postgres` database (its statements are not the run's);
   * `observers` are the orchestrator's connections to the run's database.
   */
  static async open(options: {
    adminUrl: string;
    databaseUrl: string;
    clusterDir: string;
    redis: Redis;
    workerPid: number;
    observers: ObserverClient[];
  }): Promise<RunCostMeter> {
    const admin = await ObserverClient.connect(options.adminUrl);
    await admin.query('create extension if not exists pg_stat_statements');
    const databaseName = new URL(options.databaseUrl).pathname.slice(1);
    return new RunCostMeter(
      admin,
      options.redis,
      options.clusterDir,
      databaseName,
      options.workerPid,
      options.observers,
    );
  }

  async begin(): Promise<void> {
    await this.admin.query('select pg_stat_statements_reset()');
    this.commitsBefore = await this.commits();
    for (const observer of this.observers) observer.queries = 0;
    this.start = await this.counters();
    this.providerBackendsAtStart = await this.providerBackends();
  }

  /** CPU so far of each backend of the simulated provider's pool (application name), by pid. */
  private async providerBackends(): Promise<Map<number, number>> {
    const rows = await this.admin.query<{ pid: number }>(
      `select pid from pg_stat_activity where application_name = 'simulated-provider' and datname = $1`,
      [this.databaseName],
    );
    return new Map(rows.map(({ pid }) => [pid, processCpuMs(pid)]));
  }

  /** CPU and Redis at the end of the work (before the stack stops: its shutdown is not the work). */
  async end(extraRedisCommands: number): Promise<Omit<RunCost, 'commits' | 'statements'>> {
    const start = this.start;
    if (!start) throw new Error('RunCostMeter.end() before begin()');
    const now = await this.counters();
    let providerBackendsCpuMs = 0;
    // A backend opened during the run starts from 0 (the pool opens lazily and keeps its
    // connections 30 s idle, longer than any gap in a run, so none closes meanwhile).
    for (const [pid, cpuMs] of await this.providerBackends()) {
      providerBackendsCpuMs += cpuMs - (this.providerBackendsAtStart.get(pid) ?? 0);
    }
    let redisCommands = 0;
    const redisByCommand: Record<string, number> = {};
    for (const [command, calls] of now.redisCalls) {
      const delta = calls - (start.redisCalls.get(command) ?? 0);
      if (delta > 0) redisByCommand[command] = delta;
      redisCommands += delta;
    }
    // The two INFO commands counters() sent at the start ran inside the measured stretch.
    redisCommands -= 2 + extraRedisCommands + this.redisCommandsOwn;
    const scripts = (name: string) =>
      (now.redisCalls.get(name) ?? 0) - (start.redisCalls.get(name) ?? 0);
    return {
      workerCpuMs: now.workerCpuMs - start.workerCpuMs,
      postgresCpuMs: now.postgresCpuMs - start.postgresCpuMs,
      providerBackendsCpuMs,
      redisCpuMs: now.redisCpuMs - start.redisCpuMs,
      redisCommands,
      redisScripts: scripts('evalsha') + scripts('eval'),
      redisByCommand,
    };
  }

  /**
   * Commits and statements, read once every backend of the stack has exited: PostgreSQL 15
   * flushes a backend's counters up to 10 s late while it idles, and always when it exits.
   * The observers must be closed by then too (call after ending them).
   */
  async statementsAndCommits(): Promise<Pick<RunCost, 'commits' | 'statements'>> {
    const observerQueries = this.observers.reduce((sum, o) => sum + o.queries, 0);
    const commits = (await this.commits()) - this.commitsBefore - observerQueries;
    const statements = await this.admin.query<{
      query: string;
      calls: string;
      total_ms: number;
      rows: string;
    }>(
      `select regexp_replace(s.query, '\\s+', ' ', 'g') as query, s.calls,
              s.total_exec_time as total_ms, s.rows
       from pg_stat_statements s
       join pg_database d on d.oid = s.dbid
       where d.datname = $1 and s.query not like $2
       order by s.total_exec_time desc`,
      [this.databaseName, `${OBSERVER_MARK}%`],
    );
    return {
      commits,
      statements: statements.map((s) => ({
        query: s.query,
        calls: Number(s.calls),
        totalMs: s.total_ms,
        rows: Number(s.rows),
      })),
    };
  }

  async close(): Promise<void> {
    await this.admin.end();
  }

  private async commits(): Promise<number> {
    const [row] = await this.admin.query<{ commits: string }>(
      'select xact_commit as commits from pg_stat_database where datname = $1',
      [this.databaseName],
    );
    return Number(row?.commits ?? NaN);
  }

  private async counters(): Promise<Counters> {
    const stats = await this.redis.info('commandstats');
    const cpu = await this.redis.info('cpu');
    const redisCalls = new Map<string, number>();
    for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      redisCalls.set(match[1], Number(match[2]));
    }
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1]);
    return {
      workerCpuMs: processCpuMs(this.workerPid),
      postgresCpuMs: postgresCpuMs(
        this.clusterDir,
        [this.admin, ...this.observers].map((o) => o.backendPid),
      ),
      redisCpuMs: (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1000,
      redisCalls,
    };
  }
}
