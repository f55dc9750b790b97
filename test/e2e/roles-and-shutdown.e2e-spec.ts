import Bull from 'bull';
import * as net from 'node:net';
import request from 'supertest';
import { QUEUE_NAMES } from '../../src/queue/queue-names';
import { AppProcess } from '../support/app-process';
import { sessionCookie } from '../support/http-app';
import { createPayees } from '../support/payouts-fixtures';
import { listeningPorts } from '../support/ports';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'roles@example.com', password: 'a long enough password' };

/** One payee owed 50.00 EUR (minimum 10.00), so a payout cycle creates exactly one payout. */
async function seedOnePayee(databaseUrl: string): Promise<number> {
  const [payeeId] = await createPayees(databaseUrl, [
    { currency: 'EUR', minimumMinor: 1_000, earnings: [5_000] },
  ]);
  return payeeId;
}

async function workerCount(redisUrl: string, prefix: string): Promise<number> {
  const counts = await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const queue = new Bull(name, redisUrl, { prefix });
      try {
        return (await queue.getWorkers()).length;
      } finally {
        await queue.close();
      }
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

describe('Process roles and graceful shutdown (real processes)', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let env: Record<string, string>;
  let api: AppProcess;
  let apiUrl: string;
  let worker: AppProcess | undefined;
  const others: AppProcess[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    const port = String(await freePort());
    env = testEnv(redis.url, databaseUrl, {
      LOG_LEVEL: 'info',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      // Slow enough for SIGTERM to land while the payment is in flight.
      PROVIDER_LATENCY: '2500ms',
      USE_DISTRIBUTED_SCHEDULER: 'true',
    });
    api = new AppProcess('main', { ...env, APP_ROLE: 'api', PORT: port, HOST: '127.0.0.1' });
    apiUrl = `http://127.0.0.1:${port}`;
    await api.waitReady();
  });

  afterAll(async () => {
    await Promise.all(others.map((process) => process.stop('SIGKILL')));
    await worker?.stop('SIGKILL');
    await api?.stop();
    await redis?.stop();
  });

  it('an api process serves HTTP and attaches no worker to any queue', async () => {
    expect(listeningPorts(api.pid)).toContain(Number(new URL(apiUrl).port));
    expect(await workerCount(redis.url, env.QUEUE_PREFIX)).toBe(0);
    expect(api.lines.some((line) => String(line.msg).startsWith('Processing queue'))).toBe(false);
  });

  it('a worker opens no port, processes what the api enqueued, and SIGTERM lets its active job finish', async () => {
    const payeeId = await seedOnePayee(databaseUrl);
    worker = new AppProcess('worker', env);
    await worker.waitReady();
    expect(listeningPorts(worker.pid)).toEqual([]);
    await waitUntil(
      async () => (await workerCount(redis.url, env.QUEUE_PREFIX)) >= QUEUE_NAMES.length,
      {
        message: 'the worker to attach to every queue',
      },
    );

    const login = await request(apiUrl).post('/auth/login').send(ADMIN).expect(200);
    const cookie = sessionCookie(login.headers['set-cookie']);
    await request(apiUrl)
      .post('/payouts/cycle')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', login.body.csrfToken)
      .expect(202);

    // The payment is in flight (the provider takes 2.5 s): stop the worker now.
    await waitUntil(
      async () =>
        (
          await query(
            databaseUrl,
            `select 1 from payouts where payee_id = $1 and status = 'processing'`,
            [payeeId],
          )
        ).length === 1,
      { message: 'the payout to be claimed by the worker' },
    );
    worker.signal('SIGTERM');
    const exit = await worker.waitExit();
    expect(exit).toEqual({ code: 0, signal: null });

    // It finished the job before exiting: paid, once, nothing left active or stalled.
    const [payout] = await query<{ id: string; status: string }>(
      databaseUrl,
      `select id, status from payouts where payee_id = $1`,
      [payeeId],
    );
    expect(payout.status).toBe('paid');
    const charges = await query<{ charges: number }>(
      databaseUrl,
      `select count(*)::int as charges from simulated_provider_charges where idempotency_key = $1`,
      [payout.id],
    );
    expect(charges[0].charges).toBe(1);
    const payouts = new Bull('payouts', redis.url, { prefix: env.QUEUE_PREFIX });
    try {
      expect(await payouts.getActiveCount()).toBe(0);
      expect(await (await payouts.getJob(payout.id))?.getState()).toBe('completed');
    } finally {
      await payouts.close();
    }
  });
  it('a job still running at SHUTDOWN_TIMEOUT is handed back: the worker exits 75 and another worker pays it once', async () => {
    const payeeId = await seedOnePayee(databaseUrl);
    // The provider answers after 60 s, far past this worker's 1 s deadline.
    const slow = new AppProcess('worker', {
      ...env,
      PROVIDER_LATENCY: '60s',
      SHUTDOWN_TIMEOUT: '1s',
    });
    others.push(slow);
    await slow.waitReady(90_000);
    const login = await request(apiUrl).post('/auth/login').send(ADMIN).expect(200);
    await request(apiUrl)
      .post('/payouts/cycle')
      .set('Cookie', sessionCookie(login.headers['set-cookie']))
      .set('X-CSRF-Token', login.body.csrfToken)
      .expect(202);
    const [claimed] = await waitUntil(
      () =>
        query<{ id: string }>(
          databaseUrl,
          `select id from payouts where payee_id = $1 and status = 'processing'`,
          [payeeId],
        ).then((rows) => (rows.length === 1 ? rows : undefined)),
      { message: 'the payout to be claimed by the slow worker' },
    );

    slow.signal('SIGTERM');
    // A generous bound, polled: the deadline is 1 s and the backstop (exit 1) 5 s after it.
    await waitUntil(() => !slow.running, { timeoutMs: 30_000, message: 'the worker to exit' });
    expect(await slow.waitExit()).toEqual({ code: 75, signal: null });
    const handedBack = slow.lines.find((line) =>
      String(line.msg).startsWith(`Job payouts#${claimed.id} (payout.process) handed back`),
    );
    expect(handedBack).toBeDefined();
    expect(
      slow.lines.some((line) =>
        String(line.msg).includes('given up: still running at the shutdown deadline'),
      ),
    ).toBe(true);

    // Back in `wait` at once (not active, no lock): a new worker takes it and pays it.
    const payouts = new Bull('payouts', redis.url, { prefix: env.QUEUE_PREFIX });
    try {
      expect(await (await payouts.getJob(claimed.id))?.getState()).toBe('waiting');
      const rescuer = new AppProcess('worker', { ...env, PROVIDER_LATENCY: '0' });
      others.push(rescuer);
      await rescuer.waitReady(90_000);
      await waitUntil(
        async () => (await (await payouts.getJob(claimed.id))?.getState()) === 'completed',
        { message: 'the handed-back job to complete on the other worker' },
      );
      const [payout] = await query<{ status: string }>(
        databaseUrl,
        `select status from payouts where id = $1`,
        [claimed.id],
      );
      expect(payout.status).toBe('paid');
      // One charge: the second call replayed the first under the same idempotency key.
      const charges = await query<{ charges: number }>(
        databaseUrl,
        `select count(*)::int as charges from simulated_provider_charges where idempotency_key = $1`,
        [claimed.id],
      );
      expect(charges[0].charges).toBe(1);
      expect(await payouts.getJobCounts()).toMatchObject({ active: 0, waiting: 0, failed: 0 });
      await rescuer.stop();
    } finally {
      await payouts.close();
    }
  });

  it('SIGTERM drains HTTP: a request in flight gets its answer, new connections are refused, exit 0', async () => {
    const port = await freePort();
    const server = new AppProcess('main', {
      ...env,
      APP_ROLE: 'api',
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT: '30s',
    });
    others.push(server);
    await server.waitReady(90_000);

    // A login whose body arrives in two parts: in flight from its headers on (the server
    // answers 100 Continue once it has them) until the rest of the body is sent.
    const body = JSON.stringify(ADMIN);
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      'POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n` +
        body.slice(0, 10),
    );
    await waitUntil(() => received.startsWith('HTTP/1.1 100 Continue'), {
      message: 'the server to read the request headers',
    });

    server.signal('SIGTERM');
    // Printed synchronously on stderr (plain text), so it is never lost to a prompt exit.
    await server.waitForOutput('SIGTERM received');
    // Not accepting any more.
    await waitUntil(
      () =>
        new Promise<boolean>((resolve) => {
          const probe = net.connect(port, '127.0.0.1');
          probe.once('connect', () => (probe.destroy(), resolve(false)));
          probe.once('error', () => resolve(true));
        }),
      { message: 'new connections to be refused' },
    );
    expect(server.running).toBe(true);

    socket.write(body.slice(10));
    await ended;
    const answer = received.slice(received.indexOf('\r\n\r\n') + 4);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('"csrfToken"');
    await waitUntil(() => !server.running, { timeoutMs: 30_000, message: 'the server to exit' });
    expect(await server.waitExit()).toEqual({ code: 0, signal: null });
  });
});
