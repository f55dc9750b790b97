import Bull from 'bull';
import request from 'supertest';
import { QUEUE_NAMES } from '../../src/queue/queue-names';
import { AppProcess } from '../support/app-process';
import { sessionCookie } from '../support/http-app';
import { listeningPorts } from '../support/ports';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'roles@example.com', password: 'a long enough password' };

/** One payee owed 50.00 EUR (minimum 10.00), so a payout cycle creates exactly one payout. */
async function seedOnePayee(databaseUrl: string): Promise<number> {
  const [payee] = await query<{ id: number }>(
    databaseUrl,
    `insert into payees (name, email, currency, minimum_payout_minor) values ('Ada', 'ada@example.com', 'EUR', 1000) returning id`,
  );
  await query(
    databaseUrl,
    `insert into ledger_entries (payee_id, kind, amount_minor, currency) values ($1, 'earning', 5000, 'EUR')`,
    [payee.id],
  );
  return payee.id;
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
});
