import request from 'supertest';
import { AppProcess } from '../support/app-process';
import { runCli } from '../support/cli';
import { sessionCookie } from '../support/http-app';
import {
  createTestDatabase,
  query,
  startTestSentinelRedis,
  testEnv,
  TestSentinelRedis,
} from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

/*
 * The app behind Redis Sentinel: a real primary, a replica and three sentinels on loopback
 * (redis-server --sentinel). An API and a worker (dist/; run `npx nest build` first) know only the
 * sentinels. The primary is then killed: the sentinels promote the replica and the same processes
 * carry on (sessions, manual runs, scheduled ticks) without a restart.
 */

const ADMIN = { email: 'ops@example.com', password: 'a long enough password' };

describe('Redis Sentinel: the app through the sentinels, across a failover', () => {
  let redis: TestSentinelRedis;
  let databaseUrl: string;
  let env: Record<string, string>;
  let api: AppProcess;
  let worker: AppProcess;
  let apiUrl: string;

  async function ticksAfter(at: number): Promise<number> {
    const [row] = await query<{ count: string }>(
      databaseUrl,
      `SELECT count(*) FROM schedule_runs WHERE schedule = 'queue-cleanup' AND tick_at > $1`,
      [new Date(at)],
    );
    return Number(row.count);
  }

  async function loginAndRunNow(): Promise<{ cookie: string }> {
    const res = await request(apiUrl).post('/auth/login').send(ADMIN).expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']);
    const run = await request(apiUrl)
      .post('/schedules/payout-reconcile/run')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', res.body.csrfToken as string)
      .expect(202);
    const jobId = run.body.jobId as string;
    await waitUntil(
      async () =>
        (
          await query(
            databaseUrl,
            `SELECT 1 FROM schedule_runs WHERE job_id = $1 AND status = 'succeeded'`,
            [jobId],
          )
        ).length === 1,
      { timeoutMs: 30_000, message: `the manual run (job ${jobId}) to succeed` },
    );
    return { cookie };
  }

  beforeAll(async () => {
    redis = await startTestSentinelRedis();
    databaseUrl = await createTestDatabase();
    env = testEnv(await redis.primaryUrl(), databaseUrl, {
      ...redis.env,
      LOG_LEVEL: 'info',
      SESSION_SECRET: 'sentinel-secret-for-tests-0123456789abcdef',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      SCHEDULE_QUEUE_CLEANUP_ENABLED: 'true',
      SCHEDULE_QUEUE_CLEANUP_CRON: '* * * * * *',
      SCHEDULE_REDIS_LOSS_CHECK_ENABLED: 'true',
      SCHEDULE_REDIS_LOSS_CHECK_EVERY: '1s',
    });
    const port = String(await freePort());
    apiUrl = `http://127.0.0.1:${port}`;
    api = new AppProcess('main', { ...env, APP_ROLE: 'api', PORT: port, HOST: '127.0.0.1' });
    worker = new AppProcess('worker', env);
    await Promise.all([api.waitReady(60_000), worker.waitReady(60_000)]);
  });

  afterAll(async () => {
    await Promise.all([api, worker].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await redis?.stop();
  });

  it('npm run doctor reports the primary and its replica, found through the sentinels', async () => {
    const primary = new URL(await redis.primaryUrl()).port;
    const result = await runCli('doctor', env);
    expect(result.stdout).toMatch(
      /^OK\s+redis\s+the primary "mymaster" of sentinels 127\.0\.0\.1:/m,
    );
    expect(result.stdout).toMatch(
      new RegExp(
        `^OK\\s+redis replication\\s+primary 127\\.0\\.0\\.1:${primary}; replicas 127\\.0\\.0\\.1:\\d+ \\(online\\)`,
        'm',
      ),
    );
    expect(result.code).toBe(0);
  });

  it('serves sessions and runs jobs, then carries on after the primary is killed and the replica promoted', async () => {
    const { cookie } = await loginAndRunNow();
    await waitUntil(async () => (await ticksAfter(0)) >= 2, {
      timeoutMs: 30_000,
      message: 'scheduled ticks through the sentinels',
    });
    const pids = [api.pid, worker.pid];

    const killedAt = Date.now();
    const killed = await redis.killPrimary();
    // Readiness answers 503 while there is no primary to talk to.
    await waitUntil(async () => (await request(apiUrl).get('/health/ready')).status === 503, {
      timeoutMs: 10_000,
      intervalMs: 100,
      message: 'readiness to answer 503 during the failover',
    });
    await waitUntil(async () => new URL(await redis.primaryUrl()).port !== String(killed), {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'the sentinels to promote the replica',
    });
    const promotedAt = Date.now();
    await waitUntil(async () => (await request(apiUrl).get('/health/ready')).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `readiness to answer 200 on the new primary\n${api.tail()}`,
    });
    const readyAt = Date.now();

    // The session written before the failover was replicated; new logins and jobs work.
    await request(apiUrl).get('/auth/me').set('Cookie', cookie).expect(200);
    await loginAndRunNow();
    await waitUntil(async () => (await ticksAfter(readyAt)) >= 2, {
      timeoutMs: 30_000,
      message: `scheduled ticks on the new primary\n${worker.tail()}`,
    });
    // The promoted replica is another server: the loss check sweeps for jobs it may lack.
    await worker.waitForLog(
      (line) =>
        /^Redis data loss suspected \(another Redis server is primary now.*re-enqueued/.test(
          String(line.msg),
        ),
      'the redis-loss-check to notice the new primary and sweep',
    );
    expect([api.pid, worker.pid]).toEqual(pids);
    expect(api.running && worker.running).toBe(true);
    console.log(
      `Sentinel failover: promotion ${promotedAt - killedAt} ms after the kill, ` +
        `readiness back after ${readyAt - killedAt} ms`,
    );
  });
});
