import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { AppProcess } from '../lib/app-process';
import { appOverrides } from '../lib/app-env';
import { REPO } from '../lib/paths';
import { BenchContext } from '../lib/scenario';
import { ClusterOptions } from '../lib/services';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const setup = require(path.join(REPO, 'scripts', 'lib', 'setup.cjs'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require(path.join(REPO, 'scripts', 'lib', 'services.cjs'));

const run = promisify(execFile);

/*
 * The payouts domain as the payouts branch builds it (these scenarios depend on it):
 *   node dist/cli/seed.js --payees N      payees with earnings
 *   POST /payouts/cycle (admin)            202; the cycle job creates and enqueues the payouts
 *   payouts.status pending|processing -> paid|failed, finished_at; notifications rows
 *   POST /exports {} (authenticated)       202 { exportId }; GET /exports/:id { status, rowCount }
 *   PROVIDER_LATENCY=0                      the simulated provider answers at once
 */
export const SEED_CLI = path.join(REPO, 'dist', 'cli', 'seed.js');
const ADMIN = { email: 'bench-admin@localhost', password: 'bench-admin-password-0123' };
const SECRET = 'bench-only-session-secret-0123456789abcdef';

/** Why the payouts scenarios cannot run here, or undefined when they can. */
export function missingPayouts(): string | undefined {
  try {
    setup.ensureBuild();
  } catch (error) {
    return `dist/ could not be built: ${(error as Error).message}`;
  }
  if (!fs.existsSync(SEED_CLI))
    return 'dist/cli/seed.js is missing: these scenarios need the payouts domain (payouts branch)';
  return undefined;
}

export function appEnv(redisUrl: string, databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: SECRET,
    TRUST_PROXY: 'loopback',
    HOST: '127.0.0.1',
    PROVIDER_LATENCY: '0',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    ...appOverrides(),
  };
}

/**
 * A seeded database per size, kept as a template: each measurement starts from an identical
 * copy (CREATE DATABASE ... TEMPLATE), because a cycle consumes the balances it pays.
 */
export class SeededDatabases {
  private readonly templates = new Map<string, string>();

  constructor(
    private readonly context: BenchContext,
    private readonly cluster: ClusterOptions = {},
  ) {}

  async template(
    payees: number,
    prepare?: (url: string) => Promise<void>,
    tag = '',
  ): Promise<string> {
    const key = `${payees}${tag}`;
    const existing = this.templates.get(key);
    if (existing) return existing;
    const url = await this.context.services.database(`seed_${payees}${tag}`, this.cluster);
    const env = appEnv(await this.context.services.redisUrl(), url);
    const started = Date.now();
    await run(process.execPath, [SEED_CLI, '--payees', String(payees)], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    this.context.out(
      `  seeded ${payees} payees in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    if (prepare) await prepare(url);
    this.templates.set(key, url);
    return url;
  }

  /** A fresh copy of a template (nobody may be connected to the template meanwhile). */
  async copy(templateUrl: string): Promise<string> {
    const template = new URL(templateUrl).pathname.slice(1);
    const name = `${template}_run_${Date.now().toString(36)}`;
    const admin = new URL(templateUrl);
    admin.pathname = '/postgres';
    await sql(admin.toString(), `create database "${name}" template "${template}"`);
    const copy = new URL(templateUrl);
    copy.pathname = `/${name}`;
    return copy.toString();
  }
}

/** Starts every statement of the orchestrator's, so pg_stat_statements can leave them out. */
export const OBSERVER_MARK = '/* bench-observer */';

/**
 * One connection of the orchestrator's for the length of a measurement (a connection per poll
 * would fork a backend each time, PostgreSQL CPU the measurement would count). It counts its
 * statements and knows its backend, so a measurement can leave out its own commits and CPU.
 */
export class ObserverClient {
  queries = 0;

  private constructor(
    private readonly client: Client,
    readonly backendPid: number,
  ) {}

  static async connect(url: string): Promise<ObserverClient> {
    const client = new Client({ connectionString: url, application_name: 'bench-observer' });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const observer = new ObserverClient(client, rows[0].pid);
    observer.queries = 1;
    return observer;
  }

  async query<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    this.queries += 1;
    return (await this.client.query(`${OBSERVER_MARK} ${text}`, values)).rows as T[];
  }

  async end(): Promise<void> {
    await this.client.end();
  }
}

export async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** One API process and N worker processes from dist/, on one database and one Redis. */
export class Stack {
  readonly api: AppProcess;
  readonly workers: AppProcess[];
  readonly url: string;

  private constructor(api: AppProcess, workers: AppProcess[], port: number) {
    this.api = api;
    this.workers = workers;
    this.url = `http://127.0.0.1:${port}`;
  }

  /**
   * `settings` are the scenario's own (they win over BENCH_APP_*: they are what it measures).
   * Each process names its connections (PGAPPNAME: bench-api, bench-worker-<n>) so a scenario
   * can count them in pg_stat_activity.
   */
  static async start(
    context: BenchContext,
    databaseUrl: string,
    workers: number,
    label: string,
    settings: Record<string, string> = {},
  ): Promise<Stack> {
    const env = { ...appEnv(await context.services.redisUrl(), databaseUrl), ...settings };
    const port: number = await services.freePort();
    const logs = context.services.logDir;
    const api = new AppProcess(
      'api',
      'main.js',
      { ...env, APP_ROLE: 'api', PORT: String(port), PGAPPNAME: 'bench-api' },
      path.join(logs, `${label}-api.log`),
      context.profileDir,
    );
    await api.waitReady(); // it migrates and creates the admin before workers start
    const started = Array.from(
      { length: workers },
      (_, i) =>
        new AppProcess(
          `worker ${i + 1}`,
          'worker.js',
          { ...env, PGAPPNAME: `bench-worker-${i + 1}` },
          path.join(logs, `${label}-worker-${i + 1}.log`),
          context.profileDir,
        ),
    );
    const stack = new Stack(api, started, port);
    try {
      await Promise.all(started.map((w) => w.waitReady()));
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  /** Logs in as the bootstrap admin: the cookie and CSRF token for mutations. */
  async login(): Promise<{ cookie: string; csrfToken: string }> {
    const res = await fetch(`${this.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify(ADMIN),
    });
    if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
    const sid = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    const body = (await res.json()) as { csrfToken: string };
    if (!sid) throw new Error('login: no session cookie');
    return { cookie: sid.split(';')[0], csrfToken: body.csrfToken };
  }

  async post(
    pathName: string,
    session: { cookie: string; csrfToken: string },
    body: unknown = {},
  ): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}${pathName}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-proto': 'https',
        cookie: session.cookie,
        'x-csrf-token': session.csrfToken,
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${pathName}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** Peak RSS of each process, API first. */
  peakRss(): Array<{ name: string; bytes: number }> {
    return [this.api, ...this.workers].map((p) => ({ name: p.name, bytes: p.peakRssBytes() }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.api.stop();
  }
}
