import Bull from 'bull';
import request from 'supertest';
import { AppProcess, LogLine } from '../support/app-process';
import { sessionCookie } from '../support/http-app';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'trail@example.com', password: 'a long enough password' };
const TRAIL = 'trail-e2e.0001:abc';

interface TrailRow {
  id: string;
  queue: string;
  name: string;
  state: string;
  correlationId: string;
}

/**
 * One request's correlation ID, followed through two real processes: the API's response header and
 * log lines, the job it enqueued, the worker's log lines while running it, and the jobs that job
 * enqueued in turn (payout, then notification).
 */
describe('Correlation ID from request to jobs to logs (api + worker processes)', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let api: AppProcess;
  let worker: AppProcess;
  let apiUrl: string;
  let prefix: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    const env = testEnv(redis.url, databaseUrl, {
      LOG_LEVEL: 'debug',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      PROVIDER_LATENCY: '0',
    });
    prefix = env.QUEUE_PREFIX;
    const port = String(await freePort());
    apiUrl = `http://127.0.0.1:${port}`;
    api = new AppProcess('main', { ...env, APP_ROLE: 'api', PORT: port, HOST: '127.0.0.1' });
    await api.waitReady();
    worker = new AppProcess('worker', env);
    await worker.waitReady();
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.stop();
  });

  it('follows the ID into the response, the logs, the job data and the jobs started by jobs', async () => {
    const [payee] = await query<{ id: number }>(
      databaseUrl,
      `insert into payees (name, email, currency, minimum_payout_minor) values ('Grace', 'grace@example.com', 'USD', 100) returning id`,
    );
    await query(
      databaseUrl,
      `insert into ledger_entries (payee_id, kind, amount_minor, currency) values ($1, 'earning', 4200, 'USD')`,
      [payee.id],
    );
    const login = await request(apiUrl).post('/auth/login').send(ADMIN).expect(200);
    const cookie = sessionCookie(login.headers['set-cookie']);

    const res = await request(apiUrl)
      .post(`/payees/${payee.id}/pay`)
      .set('Cookie', cookie)
      .set('X-CSRF-Token', login.body.csrfToken)
      .set('X-Correlation-Id', TRAIL)
      .expect(202);
    expect(res.headers['x-correlation-id']).toBe(TRAIL);
    expect(res.body.correlationId).toBe(TRAIL);

    // The API's own log line for the request carries it.
    await api.waitForLog(
      (line) =>
        line.correlationId === TRAIL &&
        (line.req as { url?: string })?.url === `/payees/${payee.id}/pay`,
      'the access log line',
    );

    // The whole trail: pay-payee job -> payout.process job -> notification job, all with the ID.
    const trail = await waitUntil(
      async () => {
        const found = await request(apiUrl)
          .get(`/jobs/by-correlation/${encodeURIComponent(TRAIL)}`)
          .set('Cookie', cookie)
          .expect(200);
        const jobs = found.body.jobs as TrailRow[];
        const names = new Set(jobs.filter((j) => j.state === 'completed').map((j) => j.name));
        return ['payout.pay-payee', 'payout.process', 'notification.payout'].every((n) =>
          names.has(n),
        )
          ? jobs
          : undefined;
      },
      { message: 'the three jobs of the trail to complete' },
    );
    expect(new Set(trail.map((j) => j.queue))).toEqual(new Set(['payouts', 'notifications']));
    expect(trail.every((j) => j.correlationId === TRAIL)).toBe(true);

    // The job data itself, read straight from Redis.
    const notifications = new Bull('notifications', redis.url, { prefix });
    try {
      const notification = trail.find((j) => j.name === 'notification.payout')!;
      const job = await notifications.getJob(notification.id);
      expect(job?.data.meta.correlationId).toBe(TRAIL);
      expect(job?.data.meta.origin).toMatch(/^job payouts\/payout\.process#/);
    } finally {
      await notifications.close();
    }

    // The worker's log lines written while running each job carry the ID and the job's identity.
    const jobLines = (name: string): LogLine[] =>
      worker.lines.filter((line) => line.correlationId === TRAIL && line.jobName === name);
    await waitUntil(() => jobLines('notification.payout').length > 0, {
      message: 'a notification job log line',
    });
    for (const name of ['payout.pay-payee', 'payout.process', 'notification.payout']) {
      const [line] = jobLines(name);
      expect(line).toMatchObject({ correlationId: TRAIL, jobName: name, attempt: 1 });
      expect(line.queue).toEqual(expect.any(String));
      expect(line.jobId).toEqual(expect.any(String));
    }
  });
});
