import * as path from 'node:path';
import { appOverrides } from '../lib/app-env';
import { Child, startChildren } from '../lib/child';
import { printTable, saveResults } from '../lib/report';
import { compare, Comparison, figures, measuredOnly, Measurement, runRounds } from '../lib/rounds';
import { BenchContext, Scenario } from '../lib/scenario';
import { finalLine, plain } from '../lib/stats';
import { BENCH_USER } from './bench-user';
import { load } from './load';

type ServerName =
  | 'project'
  | 'projectSessions'
  | 'bareNest'
  | 'bareExpress'
  | 'nestSession'
  | 'expressSession';
type SessionServer = 'project' | 'nestSession' | 'expressSession';

const SERVERS: Record<ServerName, string> = {
  project: 'http/project-server',
  projectSessions: 'http/project-server',
  bareNest: 'baselines/bare-nest-server',
  bareExpress: 'baselines/bare-express-server',
  nestSession: 'baselines/nest-session-server',
  expressSession: 'baselines/express-session-server',
};

interface Target {
  key: string;
  server: ServerName;
  path: string;
  cookie?: SessionServer;
}

const TARGETS: Target[] = [
  { key: 'public: project GET /health/live', server: 'project', path: '/health/live' },
  { key: 'public: bare NestJS', server: 'bareNest', path: '/health/live' },
  { key: 'public: bare Express', server: 'bareExpress', path: '/health/live' },
  {
    key: 'authenticated: project GET /auth/me',
    server: 'project',
    path: '/auth/me',
    cookie: 'project',
  },
  {
    key: 'authenticated: bare NestJS + express-session + connect-redis',
    server: 'nestSession',
    path: '/auth/me',
    cookie: 'nestSession',
  },
  {
    key: 'authenticated: express-session + connect-redis',
    server: 'expressSession',
    path: '/me',
    cookie: 'expressSession',
  },
  {
    key: 'public, session middleware on all routes, no cookie',
    server: 'projectSessions',
    path: '/health/live',
  },
  {
    key: 'public, session middleware on all routes, with session cookie',
    server: 'projectSessions',
    path: '/health/live',
    cookie: 'project',
  },
];

const TARGET_09 = { minRatio: 0.9, text: '>= 0.9' };
const AUTHENTICATED_VS_NEST = 'authenticated route vs bare NestJS + express-session';
const AUTHENTICATED_VS_EXPRESS = 'authenticated route vs bare Express + express-session';

/** What is compared with what (keys of TARGETS); ratios are project / baseline. */
const PAIRS: Array<{
  label: string;
  project: string;
  baseline: string;
  target?: Comparison['target'];
}> = [
  {
    label: 'public route vs bare NestJS',
    project: TARGETS[0].key,
    baseline: TARGETS[1].key,
    target: TARGET_09,
  },
  { label: 'public route vs bare Express', project: TARGETS[0].key, baseline: TARGETS[2].key },
  // The targeted pair (issue 17): a NestJS app with the same session middleware and store.
  {
    label: AUTHENTICATED_VS_NEST,
    project: TARGETS[3].key,
    baseline: TARGETS[4].key,
    target: TARGET_09,
  },
  // The earlier baseline, kept for comparison: no NestJS at all under it.
  { label: AUTHENTICATED_VS_EXPRESS, project: TARGETS[3].key, baseline: TARGETS[5].key },
  {
    label: 'route groups: public vs session on all routes (no cookie)',
    project: TARGETS[0].key,
    baseline: TARGETS[6].key,
  },
  {
    label: 'route groups: public vs session on all routes (cookie)',
    project: TARGETS[0].key,
    baseline: TARGETS[7].key,
  },
];

const SECRET = 'bench-only-session-secret-0123456789abcdef';
/** Requests arrive as from a TLS-terminating proxy on loopback, as in production. */
const PROXY_HEADERS = { 'x-forwarded-proto': 'https' };

async function startServers(
  context: BenchContext,
): Promise<Map<ServerName, { child: Child; url: string }>> {
  const redisUrl = await context.services.redisUrl();
  const databaseUrl = await context.services.database('http');
  const projectEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    APP_ROLE: 'api',
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: SECRET,
    TRUST_PROXY: 'loopback',
    ...appOverrides(),
  };
  const servers = new Map<ServerName, { child: Child; url: string }>();
  const start = async (names: ServerName[]) => {
    const children = await startChildren(
      names.map((name) => ({
        script: SERVERS[name],
        env: SERVERS[name].startsWith('http/')
          ? { ...projectEnv, BENCH_SESSION_EVERYWHERE: name === 'projectSessions' ? '1' : '0' }
          : { REDIS_URL: redisUrl, SESSION_SECRET: SECRET, NODE_ENV: 'production' },
        logFile: path.join(context.services.logDir, `http-${name}.log`),
        cpuProfDir: context.profileDir,
      })),
    ).catch(async (error) => {
      await stopServers(servers);
      throw error;
    });
    names.forEach((name, i) =>
      servers.set(name, {
        child: children[i],
        url: `http://127.0.0.1:${Number(children[i].readyMessage?.port)}`,
      }),
    );
  };
  // The first project server migrates the database; the others start once it has.
  await start(['project']);
  await start(['projectSessions', 'bareNest', 'bareExpress', 'nestSession', 'expressSession']);
  return servers;
}

async function cpuOf(child: Child): Promise<number> {
  child.send({ type: 'cpu' });
  return Number((await child.next('cpu')).us);
}

async function stopServers(servers: Map<ServerName, { child: Child }>): Promise<void> {
  await Promise.all([...servers.values()].map(({ child }) => child.stop()));
}

/** Logs in on each session server once; the cookie is then sent with every request. */
async function login(
  servers: Map<ServerName, { url: string }>,
): Promise<Record<SessionServer, string>> {
  const post = async (url: string, body: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...PROXY_HEADERS },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
    const sid = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    if (!sid) throw new Error(`POST ${url}: no session cookie`);
    return sid.split(';')[0];
  };
  return {
    project: await post(`${servers.get('project')?.url}/auth/login`, BENCH_USER),
    nestSession: await post(`${servers.get('nestSession')?.url}/auth/login`, {}),
    expressSession: await post(`${servers.get('expressSession')?.url}/login`, {}),
  };
}

export const httpScenario: Scenario = {
  name: 'http',
  summary:
    'autocannon, 50 connections: public and authenticated routes vs bare NestJS, Express, NestJS/Express + express-session',
  async run(context) {
    const seconds = context.smoke ? 1 : 10;
    const connections = 50;
    context.out(
      `${connections} connections, ${seconds} s per measurement, ${context.rounds} round(s), one server loaded at a time`,
    );
    const servers = await startServers(context);
    try {
      const cookies = await login(servers);
      const targets = TARGETS.filter((t) => !context.filter || t.key.includes(context.filter));
      const run = (target: Target, duration: number) =>
        load(`${servers.get(target.server)?.url}${target.path}`, {
          connections,
          seconds: duration,
          headers: {
            ...PROXY_HEADERS,
            ...(target.cookie ? { cookie: cookies[target.cookie] } : {}),
          },
        });
      // Warm-up (JIT, connection pools), untimed; the smoke run only checks that it works.
      if (!context.smoke) for (const target of targets) await run(target, 3);
      const measurements: Measurement[] = targets.map((target) => ({
        key: target.key,
        run: async () => {
          const server = servers.get(target.server)?.child as Child;
          const cpuBefore = await cpuOf(server);
          const result = await run(target, seconds);
          const cpu = ((await cpuOf(server)) - cpuBefore) / result.requests;
          return { rate: result.rate, p99: result.p99, cpu };
        },
      }));
      const values = await runRounds(measurements, context.rounds, context.out);
      const table = (figure: 'rate' | 'cpu') =>
        measuredOnly(
          PAIRS.map(({ label, project, baseline, target }) =>
            compare(label, figures(values, project, figure), figures(values, baseline, figure), {
              unit: figure === 'rate' ? 'req/s' : 'us',
              lowerIsBetter: figure === 'cpu',
              target: figure === 'rate' ? target : undefined,
            }),
          ),
        );
      const rows = table('rate');
      const cpu = table('cpu');
      printTable(context.out, `http: ${connections} connections, requests/s (2xx only)`, rows);
      printTable(context.out, 'http: server CPU per request, microseconds (lower is better)', cpu);
      for (const target of targets) {
        const p99 = figures(values, target.key, 'p99');
        if (p99.length > 0)
          context.out(`  p99 latency ${target.key}: ${p99.map((v) => `${v} ms`).join(', ')}`);
      }
      // The authenticated route against both session baselines, one line each.
      for (const label of [AUTHENTICATED_VS_NEST, AUTHENTICATED_VS_EXPRESS]) {
        const row = rows.find((r) => r.label === label);
        if (row)
          context.out(
            `${label}: ratio=${row.ratio.toFixed(3)} (${plain(row.project.median)}/s vs ${plain(row.baseline.median)}/s; ${row.target ? `target ${row.target.text}: ${row.ratio >= row.target.minRatio ? 'met' : 'NOT met'}` : 'no target'})`,
          );
      }
      const saved = saveResults('http', {
        seconds,
        connections,
        rounds: context.rounds,
        rows,
        cpu,
        values: Object.fromEntries(values),
      });
      context.out(`results: ${saved}`);
      const targeted = rows.filter((row) => row.target);
      const worst = (targeted.length > 0 ? targeted : rows).reduce((a, b) =>
        b.ratio < a.ratio ? b : a,
      );
      context.out(`lowest targeted ratio: ${worst.label}`);
      return {
        line: finalLine(
          'http',
          worst.ratio,
          `${plain(worst.project.median)}/s`,
          `${plain(worst.baseline.median)}/s`,
        ),
      };
    } finally {
      await stopServers(servers);
    }
  },
};
