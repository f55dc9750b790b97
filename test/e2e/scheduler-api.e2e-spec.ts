import Queue from 'bull';
import Redis from 'ioredis';
import request from 'supertest';
import { TickRunner } from '../../src/scheduler/tick-runner';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import {
  ALL_SCHEDULES_ON,
  createTestDatabase,
  query,
  startTestRedis,
  testEnv,
  TestRedis,
} from '../support/services';
import { waitUntil } from '../support/wait';

const HOUR = 3_600_000;

/**
 * Finished jobs in the exports queue, made by a plain Bull worker before the app starts:
 * six completed, three failed, two of which are then dated two hours back (what an old failure
 * looks like to Bull: its finishedOn and its score in the failed set).
 */
async function seedFinishedJobs(redisUrl: string, prefix: string) {
  const queue = new Queue('exports', redisUrl, { prefix });
  const probe = new Redis(redisUrl);
  try {
    const keep = { removeOnComplete: false, removeOnFail: false, attempts: 1 };
    const completed = [];
    for (let i = 0; i < 6; i += 1) completed.push(await queue.add('seed', { i }, keep));
    const failed = [];
    for (let i = 0; i < 3; i += 1) failed.push(await queue.add('seed-fail', { i }, keep));
    void queue.process('seed', async () => 'done');
    void queue.process('seed-fail', async () => {
      throw new Error('seeded failure');
    });
    await waitUntil(
      async () => (await queue.getCompletedCount()) === 6 && (await queue.getFailedCount()) === 3,
      { message: 'the seed jobs to finish' },
    );
    const twoHoursAgo = Date.now() - 2 * HOUR;
    for (const job of failed.slice(0, 2)) {
      await probe.hset(`${prefix}:exports:${job.id}`, 'finishedOn', twoHoursAgo);
      await probe.zadd(`${prefix}:exports:failed`, twoHoursAgo, String(job.id));
    }
    return {
      completed: completed.map((j) => String(j.id)),
      oldFailed: failed.slice(0, 2).map((j) => String(j.id)),
      recentFailed: String(failed[2].id),
    };
  } finally {
    probe.disconnect();
    await queue.close();
  }
}

describe('Schedules API, manual runs, run records and queue cleanup (in-process app, real Redis and PostgreSQL)', () => {
  let redis: TestRedis;
  let http: HttpApp;
  let databaseUrl: string;
  let prefix: string;
  let seeded: Awaited<ReturnType<typeof seedFinishedJobs>>;
  let admin: Session;
  let viewer: Session;

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    const env = testEnv(redis.url, databaseUrl, {
      ...ALL_SCHEDULES_ON,
      // Off, so its old run record below stays its latest (an enabled schedule would catch up).
      SCHEDULE_ANALYTICS_DAILY_STATS_ENABLED: 'false',
      // Off: its ticks would add jobs to the analytics queue whose cleanup is counted below.
      SCHEDULE_REDIS_LOSS_CHECK_ENABLED: 'false',
      APP_ROLE: 'all',
      COMPLETED_JOB_RETENTION: '3',
      FAILED_JOB_RETENTION: '1h',
    });
    prefix = env.QUEUE_PREFIX;
    seeded = await seedFinishedJobs(redis.url, prefix);
    http = await createHttpApp(env);
    await createUser(http, 'admin@example.com', 'admin');
    await createUser(http, 'viewer@example.com', 'viewer');
    admin = await login(http.server, 'admin@example.com');
    viewer = await login(http.server, 'viewer@example.com');
    // Old run records for the cleanup to trim (SCHEDULER_RUN_RETENTION, 90 days by default).
    await query(
      databaseUrl,
      `INSERT INTO schedule_runs (schedule, tick_at, trigger, runner, instance, correlation_id, status)
       SELECT schedule, now() - make_interval(days => age), 'schedule', 'queue', 'old', 'old', 'succeeded'
       FROM (VALUES ('payout-reconcile', 200), ('payout-reconcile', 199), ('payout-reconcile', 1),
                    ('analytics-daily-stats', 300)) AS old (schedule, age)`,
    );
  });

  afterAll(async () => {
    await http?.close();
    await redis?.stop();
  });

  it('lists every schedule with its mode, timing, registration and next run', async () => {
    const res = await request(http.server)
      .get('/schedules')
      .set('Cookie', viewer.cookie)
      .expect(200);
    expect(res.body.mode).toBe('distributed');
    const byName = Object.fromEntries(
      (res.body.schedules as Array<{ name: string; nextRunAt: string }>).map((s) => [s.name, s]),
    );
    expect(Object.keys(byName)).toEqual([
      'payout-cycle',
      'payout-reconcile',
      'analytics-daily-stats',
      'queue-cleanup',
      'redis-loss-check',
    ]);
    expect(byName['payout-cycle']).toMatchObject({
      mode: 'distributed',
      queue: 'payouts',
      job: 'payout.cycle',
      cron: '0 * * * *',
      timeZone: 'UTC',
      everyMs: null,
      enabled: true,
      catchUp: true,
      registered: true,
      lastRun: null,
    });
    expect(byName['queue-cleanup']).toMatchObject({ cron: null, everyMs: HOUR, registered: true });
    expect(byName['redis-loss-check']).toMatchObject({
      everyMs: 10_000,
      enabled: false,
      catchUp: false,
    });
    const next = Date.parse(byName['payout-cycle'].nextRunAt);
    expect(next % HOUR).toBe(0);
    expect(next).toBeGreaterThan(Date.now());
  });

  it('refuses a manual run to non-admins, unknown schedules and malformed names', async () => {
    await request(http.server).get('/schedules').expect(401);
    await request(http.server).post('/schedules/queue-cleanup/run').expect(401);
    await request(http.server)
      .post('/schedules/queue-cleanup/run')
      .set('Cookie', viewer.cookie)
      .set('X-CSRF-Token', viewer.csrfToken)
      .expect(403);
    const unknown = await request(http.server)
      .post('/schedules/nightly-report/run')
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .expect(404);
    expect(unknown.body.message).toContain('known: payout-cycle, payout-reconcile');
    await request(http.server)
      .post('/schedules/Not_A_Name/run')
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .expect(400);
  });

  it('runs queue-cleanup now (202, job ID): old completed and failed jobs go, recent failures stay', async () => {
    const res = await request(http.server)
      .post('/schedules/queue-cleanup/run')
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .expect(202);
    expect(res.body).toMatchObject({
      schedule: 'queue-cleanup',
      queue: 'analytics',
      job: 'maintenance.queue-cleanup',
      jobId: expect.any(String),
    });
    const jobId = res.body.jobId as string;
    const [run] = await waitUntil(
      async () => {
        const rows = await query<{ status: string; trigger: string; correlation_id: string }>(
          databaseUrl,
          `SELECT status, trigger, correlation_id FROM schedule_runs WHERE job_id = $1 AND status <> 'running'`,
          [jobId],
        );
        return rows.length > 0 ? rows : undefined;
      },
      { message: 'the manual run to finish' },
    );
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    // A manual run carries the request's correlation ID.
    expect(run.correlation_id).toBe(res.headers['x-correlation-id']);

    const exportsQueue = new Queue('exports', redis.url, { prefix });
    try {
      const completed = (await exportsQueue.getCompleted()).map((j) => String(j.id)).sort();
      expect(completed).toEqual(seeded.completed.slice(-3).sort());
      const failed = (await exportsQueue.getFailed()).map((j) => String(j.id));
      expect(failed).toEqual([seeded.recentFailed]);
    } finally {
      await exportsQueue.close();
    }

    // Run records past the retention went, except the latest of each schedule (catch-up reads it).
    const kept = await query<{ schedule: string; days: number }>(
      databaseUrl,
      `SELECT schedule, round(extract(epoch FROM now() - tick_at) / 86400)::int AS days
       FROM schedule_runs WHERE instance = 'old' ORDER BY schedule, tick_at`,
    );
    expect(kept).toEqual([
      { schedule: 'analytics-daily-stats', days: 300 },
      { schedule: 'payout-reconcile', days: 1 },
    ]);

    // Audited like every admin mutation: the accepted run, and the refused ones before it.
    const audit = await query<{
      actor_email: string;
      target: string;
      detail: Record<string, unknown>;
    }>(
      databaseUrl,
      `SELECT actor_email, target, detail FROM audit_log WHERE action = 'schedule.run' ORDER BY id`,
    );
    expect(audit.map((row) => [row.target, row.detail.outcome])).toEqual([
      ['nightly-report', 'refused'],
      ['Not_A_Name', 'refused'],
      ['queue-cleanup', 'done'],
    ]);
    expect(audit[2]).toMatchObject({
      actor_email: 'admin@example.com',
      detail: { result: { jobId } },
    });

    const list = await request(http.server)
      .get('/schedules')
      .set('Cookie', viewer.cookie)
      .expect(200);
    const cleanup = (list.body.schedules as Array<{ name: string; lastRun: unknown }>).find(
      (s) => s.name === 'queue-cleanup',
    );
    expect(cleanup?.lastRun).toMatchObject({
      trigger: 'manual',
      status: 'succeeded',
      runner: 'queue',
      jobId,
      attempts: 1,
      duplicates: 0,
      error: null,
    });
  });

  it('records each tick once: a retry of the same job takes its row over, anyone else is refused and counted', async () => {
    const runner = http.app.get(TickRunner);
    const tickAt = Date.UTC(2030, 0, 1, 10);
    const base = {
      schedule: 'payout-reconcile',
      tickAt,
      trigger: 'schedule' as const,
      runner: 'queue' as const,
      instance: 'test',
      correlationId: 'test-tick',
    };
    let calls = 0;
    const task = async () => {
      calls += 1;
      if (calls === 1) throw new Error('provider timeout');
      return 'ok';
    };
    await expect(runner.run({ ...base, jobId: 'job-a' }, task)).rejects.toThrow('provider timeout');
    await expect(runner.run({ ...base, jobId: 'job-a' }, task)).resolves.toEqual({
      ran: true,
      result: 'ok',
    });
    const refused = await runner.run({ ...base, jobId: 'job-b' }, task);
    expect(refused).toMatchObject({ ran: false, reason: expect.stringContaining('job job-a') });
    const again = await runner.run({ ...base, jobId: 'job-a' }, task);
    expect(again.ran).toBe(false);
    expect(calls).toBe(2);
    const rows = await query(
      databaseUrl,
      `SELECT job_id, status, attempts, duplicates, error FROM schedule_runs
        WHERE schedule = 'payout-reconcile' AND tick_at = $1`,
      [new Date(tickAt)],
    );
    expect(rows).toEqual([
      { job_id: 'job-a', status: 'succeeded', attempts: 2, duplicates: 2, error: null },
    ]);
  });
});
