import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitUntil } from '../support/wait';
import { ComposeStack, run } from './compose-stack';

/*
 * The deployment kit, built and run for real: the image from the Dockerfile (multi-stage, on the
 * local base image when no registry answers), then docker-compose.yml's stack (Redis, PostgreSQL,
 * one API, two workers) with the machine's engine. It waits for /health/ready, scales the running
 * stack out to three workers, logs in, pays a cycle for seeded payees on every worker, and stops
 * the app containers with SIGTERM.
 * Figures (image size, build time, time to ready, payouts paid) go to .data/deploy/figures.json.
 */

const REPO = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const engines = require('../../scripts/lib/container-engine.cjs') as {
  ensureEngine(): { engine: string; compose: string[] };
  ensureBaseImages(engine: string): { base: string; services?: string; local: boolean };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { NODE_VERSION } = require('../../scripts/lib/node-runtime.cjs') as { NODE_VERSION: string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs') as { freePort(): Promise<number> };

const IMAGE = 'payouts-jobs:latest';
const PAYEES = 300;
const WORKERS = 2;
// Workers after the scale-out of a running stack.
const SCALED_WORKERS = 3;
// Above SHUTDOWN_TIMEOUT (30 s in docker-compose.yml), as the compose file's stop_grace_period.
const STOP_SECONDS = 40;

const figures: Record<string, unknown> = {};
let stack: ComposeStack;
let apiUrl: string;
let api: string;
let workers: string[];
const secrets = {
  SESSION_SECRET: randomBytes(32).toString('hex'),
  POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
  BOOTSTRAP_ADMIN_EMAIL: 'admin@deploy.test',
  BOOTSTRAP_ADMIN_PASSWORD: randomBytes(12).toString('base64url'),
};

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

async function http(
  route: string,
  init: RequestInit & { session?: { cookie: string; csrfToken: string } } = {},
): Promise<{ status: number; body: Record<string, unknown>; cookies: string[] }> {
  // As the TLS proxy in front of the API would (production session cookies are Secure).
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-forwarded-proto': 'https',
  };
  if (init.session) {
    headers.cookie = init.session.cookie;
    headers['x-csrf-token'] = init.session.csrfToken;
  }
  const res = await fetch(`${apiUrl}${route}`, {
    ...init,
    headers,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    cookies: res.headers.getSetCookie(),
  };
}

/** Payout rows by status, read in the PostgreSQL container (the source of truth). */
async function payoutsByStatus(): Promise<Record<string, number>> {
  const [postgres] = await stack.containers('postgres');
  const { stdout } = await stack.exec(
    postgres,
    [
      'psql',
      '-h',
      '127.0.0.1',
      '-U',
      'payouts',
      '-d',
      'payouts',
      '-tA',
      '-F',
      ' ',
      '-c',
      'select status, count(*) from payouts group by status',
    ],
    { PGPASSWORD: secrets.POSTGRES_PASSWORD },
  );
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .map(([status, count]) => [status, Number(count)]),
  );
}

/** `Job done` debug lines a container logged for jobs of the payouts queue (job fields are flat). */
async function payoutJobsDone(container: string): Promise<number> {
  return (await stack.logs(container))
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; queue?: string })
    .filter((line) => line.msg === 'Job done' && line.queue === 'payouts').length;
}

/** Waits until a worker container runs and has logged that it processes jobs. */
async function workerStarted(worker: string): Promise<void> {
  await waitUntil(
    async () =>
      (await stack.inspect(worker, '{{.State.Status}}')) === 'running' &&
      /"msg":"Role worker: /.test(await stack.logs(worker)),
    { timeoutMs: 120_000, intervalMs: 1_000, message: `${worker} to log that it processes jobs` },
  );
}

beforeAll(async () => {
  const { engine, compose } = engines.ensureEngine();
  figures.engine = engine;
  let started = Date.now();
  const images = engines.ensureBaseImages(engine);
  figures.baseImage = images.base;
  figures.baseImagesSeconds = seconds(started);

  started = Date.now();
  // Minutes without output on a first build: say what is going on.
  process.stderr.write(`[deploy] building ${IMAGE} with ${engine} on ${images.base}\n`);
  // podman keeps HEALTHCHECK only in the docker image format (OCI has no field for it).
  const format = engine === 'podman' ? ['--format', 'docker'] : [];
  await run(engine, [
    'build',
    ...format,
    '--build-arg',
    `BASE_IMAGE=${images.base}`,
    '-t',
    IMAGE,
    '.',
  ]);
  figures.imageBuildSeconds = seconds(started);
  figures.imageSizeMB = Math.round(
    Number((await run(engine, ['image', 'inspect', '--format', '{{.Size}}', IMAGE])).stdout) / 1e6,
  );

  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  stack = new ComposeStack(
    engine,
    compose,
    `payouts-deploy-${process.pid}`,
    ['docker-compose.yml', ...(images.local ? ['deploy/compose.local-services.yml'] : [])],
    // LOG_LEVEL=debug: workers log each job they finish, which shows each took payouts.
    // TRUST_PROXY: this test stands in for the TLS proxy (X-Forwarded-Proto: https).
    { ...process.env, ...secrets, API_PORT: String(port), LOG_LEVEL: 'debug', TRUST_PROXY: 'true' },
  );
  started = Date.now();
  // --scale for docker compose, WORKER_REPLICAS for podman-compose 1.0 (which ignores --scale).
  await stack.composeRun(['up', '-d', '--no-build', '--scale', `worker=${WORKERS}`], {
    env: { WORKER_REPLICAS: String(WORKERS) },
  });
  await waitUntil(async () => (await http('/health/ready')).status === 200, {
    timeoutMs: 300_000,
    intervalMs: 500,
    message: `${apiUrl}/health/ready to answer 200`,
  });
  figures.secondsToReady = seconds(started);
  [api] = await stack.containers('api');
  workers = await stack.containers('worker');
});

afterAll(async () => {
  let leftBehind: string[] = [];
  if (stack) {
    // podman-compose 1.0 removes the replicas the file names under the environment it is given,
    // not the containers that run: it is told about the scaled-out workers.
    await stack.composeRun(['down', '-v'], {
      allowFailure: true,
      env: { WORKER_REPLICAS: String(SCALED_WORKERS) },
    });
    leftBehind = await stack.projectContainers();
    if (leftBehind.length > 0) {
      await run(stack.engine, ['rm', '-f', ...leftBehind], { allowFailure: true });
    }
    // podman-compose 1.0 leaves the project's network behind.
    if (stack.engine === 'podman') {
      await run('podman', ['network', 'rm', `${stack.project}_default`], { allowFailure: true });
    }
  }
  fs.mkdirSync(path.join(REPO, '.data', 'deploy'), { recursive: true });
  fs.writeFileSync(
    path.join(REPO, '.data', 'deploy', 'figures.json'),
    `${JSON.stringify(figures, null, 2)}\n`,
  );
  console.log(`deployment figures: ${JSON.stringify(figures)}`);
  // A teardown that misses containers would leave them to every later run.
  expect({ leftBehindByDown: leftBehind }).toEqual({ leftBehindByDown: [] });
});

describe("Deployment: the image built and the compose stack run by the machine's container engine", () => {
  it('built an image that runs Node.js 24 as a non-root user with production dependencies only and a liveness healthcheck', async () => {
    expect(await stack.inspect(api, '{{.Config.User}}')).toBe('node');
    expect(
      await run(stack.engine, [
        'image',
        'inspect',
        '--format',
        '{{json .Config.Healthcheck}}',
        IMAGE,
      ]),
    ).toMatchObject({ stdout: expect.stringContaining('/health/live') as string });
    const inside = await stack.exec(api, [
      'node',
      '-p',
      // Tools only the dev dependencies bring (typescript itself is there: valibot, under
      // @bull-board/api, declares it as a peer dependency).
      "JSON.stringify({ node: process.version, uid: process.getuid(), dev: ['jest', '@nestjs/cli', 'eslint', '@swc/core', 'prettier'].filter((m) => require('fs').existsSync('node_modules/' + m)) })",
    ]);
    const seen = JSON.parse(inside.stdout) as { node: string; uid: number; dev: string[] };
    expect(seen.node).toBe(`v${NODE_VERSION}`);
    expect(seen.uid).not.toBe(0);
    expect(seen.dev).toEqual([]);
    // The app is PID 1 of its container: it receives SIGTERM itself.
    expect((await stack.exec(api, ['cat', '/proc/1/cmdline'])).stdout.split('\0')).toEqual([
      'node',
      'dist/main.js',
      '',
    ]);
  });

  it(`runs one API and ${WORKERS} workers, each started in its role`, async () => {
    expect(workers).toHaveLength(WORKERS);
    for (const container of [api, ...workers]) {
      expect(await stack.inspect(container, '{{.State.Status}}')).toBe('running');
    }
    for (const worker of workers) await workerStarted(worker);
  });

  it(`scales the running stack out to ${SCALED_WORKERS} workers without restarting the others`, async () => {
    const startedAt = (container: string) => stack.inspect(container, '{{.State.StartedAt}}');
    const before = await Promise.all([api, ...workers].map(startedAt));
    const started = Date.now();
    await stack.composeRun(['up', '-d', '--no-build', '--scale', `worker=${SCALED_WORKERS}`], {
      env: { WORKER_REPLICAS: String(SCALED_WORKERS) },
    });
    const scaled = await stack.containers('worker');
    expect(scaled).toHaveLength(SCALED_WORKERS);
    const added = scaled.filter((container) => !workers.includes(container));
    expect(added).toHaveLength(SCALED_WORKERS - WORKERS);
    for (const worker of added) await workerStarted(worker);
    figures.scaleOutSeconds = seconds(started);
    expect(await Promise.all([api, ...workers].map(startedAt))).toEqual(before);
    workers = scaled;
    figures.workers = workers.length;
  });

  it(`logs in and pays a payout cycle for ${PAYEES} seeded payees to the end, on every worker`, async () => {
    const seeded = await stack.exec(api, ['node', 'dist/cli/seed.js', '--payees', String(PAYEES)]);
    expect(seeded.stdout).toContain(`Seeded ${PAYEES} payees`);

    const login = await http('/auth/login', {
      method: 'POST',
      body: JSON.stringify({
        email: secrets.BOOTSTRAP_ADMIN_EMAIL,
        password: secrets.BOOTSTRAP_ADMIN_PASSWORD,
      }),
    });
    expect({
      status: login.status,
      log: login.status === 200 ? '' : await stack.logs(api),
    }).toEqual({ status: 200, log: '' });
    const session = {
      cookie: login.cookies.map((c) => c.split(';')[0]).join('; '),
      csrfToken: String(login.body.csrfToken),
    };

    const started = Date.now();
    const cycle = await http('/payouts/cycle', { method: 'POST', session });
    expect(cycle.status).toBe(202);
    await waitUntil(
      async () => {
        const job = await http(`/queues/payouts/jobs/${String(cycle.body.jobId)}`, { session });
        return job.body.state === 'completed';
      },
      { timeoutMs: 600_000, intervalMs: 1_000, message: 'the payout cycle job to complete' },
    );
    const statuses = await waitUntil(
      async () => {
        const counts = await payoutsByStatus();
        const open = (counts.pending ?? 0) + (counts.processing ?? 0);
        return open === 0 && (counts.paid ?? 0) > 0 ? counts : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 1_000, message: 'every payout of the cycle to be paid' },
    );
    figures.payoutsPaid = statuses.paid;
    figures.cycleSeconds = seconds(started);
    // Seeded payees in four currencies with minimums: most, not all, reach theirs.
    expect(statuses).toEqual({ paid: expect.any(Number) as number });
    expect(statuses.paid).toBeGreaterThan(PAYEES / 2);

    const perWorker = await Promise.all(workers.map(payoutJobsDone));
    figures.payoutJobsPerWorker = perWorker;
    for (const done of perWorker) expect(done).toBeGreaterThan(0);
  });

  it('stops every app container with SIGTERM: active work finishes and each exits 0', async () => {
    const started = Date.now();
    const codes = await Promise.all(
      [...workers, api].map(async (container) => ({
        container,
        code: await stack.stop(container, STOP_SECONDS),
      })),
    );
    figures.stopSeconds = seconds(started);
    figures.exitCodes = codes.map(({ code }) => code);
    expect(codes).toEqual([...workers, api].map((container) => ({ container, code: 0 })));
    // The exit code is the app's own (its SIGTERM handler ran to the end), not a signal's.
    for (const container of [...workers, api]) {
      const log = await stack.logs(container);
      expect(log).toMatch(/SIGTERM received: no new requests or jobs/);
      expect(log).toMatch(/Shutdown complete: exit code 0/);
    }
  });
});
