import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { JobName, JobProducer, QueueName } from '../../src/queue';
import { ThroughputStore } from '../../src/metrics/throughput.store';
import { QueueRegistry } from '../../src/queue/queue-registry';
import { REDACTED } from '../../src/queues-api/job-redaction';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import { metricSum } from '../support/metrics';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import {
  blockUntilReleased,
  failAlways,
  failOnce,
  startTestWorker,
  TestWorker,
} from '../support/test-worker';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const METRICS_TOKEN = 'metrics-token-for-tests';
const REQUEST_ID = 'ops-e2e-request-1';

interface AuditRow {
  actor_email: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  correlation_id: string;
}

describe('Queue management API (real Redis and PostgreSQL, worker in this process)', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let http: HttpApp;
  let worker: TestWorker;
  let admin: Session;
  let viewer: Session;
  let producer: JobProducer;
  let queues: QueueRegistry;
  let metricsPort: number;
  const exportsBlock = blockUntilReleased();
  const jobs: Record<string, string> = {};

  const read = (path: string) => request(http.server).get(path).set('Cookie', viewer.cookie);
  const mutate = (method: 'post' | 'delete', path: string, body: object = {}) =>
    request(http.server)
      [method](path)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .set('X-Correlation-Id', REQUEST_ID)
      .send(body);
  const stateOf = async (queue: QueueName, id: string) =>
    (await queues.get(queue).getJob(id))?.getState();
  const waitForState = (queue: QueueName, id: string, state: string) =>
    waitUntil(async () => (await stateOf(queue, id)) === state, {
      message: `${queue} job ${id} to be ${state}`,
    });
  const workerMetrics = async () => {
    const res = await request(`http://127.0.0.1:${metricsPort}`)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}`)
      .expect(200);
    return res.text;
  };
  /** Audit rows of one action on one target (refused attempts, 4xx, are rows too). */
  const auditRows = (action: string, target: string) =>
    query<AuditRow>(
      databaseUrl,
      'select * from audit_log where action = $1 and target = $2 order by id',
      [action, target],
    );

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    metricsPort = await freePort();
    const env = testEnv(redis.url, databaseUrl, {
      APP_ROLE: 'api',
      METRICS_TOKEN,
      METRICS_PORT: String(metricsPort),
      // One job at a time per queue, so a blocked job keeps the next ones waiting.
      MAX_QUEUE_CONCURRENCY: '1',
      JOB_ATTEMPTS: '1',
    });
    http = await createHttpApp(env);
    worker = await startTestWorker(env);
    await createUser(http, 'admin@example.com', 'admin');
    await createUser(http, 'viewer@example.com', 'viewer');
    admin = await login(http.server, 'admin@example.com');
    viewer = await login(http.server, 'viewer@example.com');
    producer = http.app.get(JobProducer);
    queues = http.app.get(QueueRegistry);

    // exports: one job held active by the worker, one waiting behind it, one delayed for an hour.
    worker.behaviours.byName.set(JobName.ExportPayouts, exportsBlock.behaviour);
    const active = await producer.enqueue(JobName.ExportPayouts, { exportId: randomUUID() });
    await waitForState(QueueName.Exports, String(active.id), 'active');
    const waiting = await producer.enqueue(JobName.ExportPayouts, { exportId: randomUUID() });
    const delayed = await producer.enqueue(
      JobName.ExportPayouts,
      { exportId: randomUUID() },
      { delay: 3_600_000 },
    );
    // analytics: three completed, one failed for good with a two-line reason.
    worker.behaviours.byJobId.set('always-fails', failAlways('warehouse offline\nat line two'));
    const failed = await producer.enqueue(
      JobName.AnalyticsDailyStats,
      { day: '2026-01-01' },
      { jobId: 'always-fails', correlationId: 'failed-request' },
    );
    const completed = [];
    for (const day of ['2026-01-02', '2026-01-03', '2026-01-04']) {
      completed.push(await producer.enqueue(JobName.AnalyticsDailyStats, { day }));
    }
    await waitForState(QueueName.Analytics, String(failed.id), 'failed');
    for (const job of completed)
      await waitForState(QueueName.Analytics, String(job.id), 'completed');
    Object.assign(jobs, {
      active: String(active.id),
      waiting: String(waiting.id),
      delayed: String(delayed.id),
      failed: String(failed.id),
    });
  });

  afterAll(async () => {
    exportsBlock.release();
    await worker?.close();
    await http?.close();
    await redis?.stop();
  });

  it('GET /queues: counts by state, paused, attached workers and throughput of every queue', async () => {
    const res = await waitUntil(
      async () => {
        const body = (await read('/queues').expect(200)).body;
        const analytics = body.queues.find((q: { name: string }) => q.name === 'analytics');
        // The worker writes its throughput counts within a second of the jobs finishing.
        return analytics.throughput.lastHour.completed === 3 ? body : undefined;
      },
      { message: 'throughput of the analytics queue' },
    );
    expect(res.queues.map((q: { name: string }) => q.name)).toEqual([
      'payouts',
      'analytics',
      'notifications',
      'exports',
    ]);
    const byName = Object.fromEntries(
      res.queues.map((q: { name: string }) => [q.name, q]),
    ) as Record<string, Record<string, Record<string, unknown>>>;
    expect(byName.exports.counts).toMatchObject({ active: 1, waiting: 1, delayed: 1 });
    expect(byName.analytics.counts).toMatchObject({ completed: 3, failed: 1, waiting: 0 });
    expect(byName.analytics.paused).toBe(false);
    expect(byName.analytics.workers).toBe(1);
    expect(byName.analytics.throughput.lastHour).toEqual({
      completed: 3,
      failed: 1,
      failureRate: 0.25,
    });
    expect(
      (byName.analytics.throughput.lastMinute as { completed: number }).completed,
    ).toBeGreaterThan(0);
  });

  it('GET /queues/:name: job options and the age of the oldest waiting job', async () => {
    const res = await read('/queues/exports').expect(200);
    expect(res.body).toMatchObject({
      name: 'exports',
      counts: { waiting: 1, active: 1, delayed: 1 },
      defaultJobOptions: {
        attempts: 1,
        backoff: { type: 'exponential-or-retry-after', options: { delay: 50 } },
      },
      jobOptions: { 'export.payouts': { attempts: 2 } },
      oldestWaitingJobId: jobs.waiting,
    });
    expect(res.body.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
    const idle = await read('/queues/payouts').expect(200);
    expect(idle.body.oldestWaitingAgeMs).toBeNull();
  });

  it('lists jobs by state, newest first, a page at a time, with the row fields', async () => {
    const first = await read('/queues/analytics/jobs?state=completed&limit=2').expect(200);
    expect(first.body.jobs).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await read(
      `/queues/analytics/jobs?state=completed&limit=2&cursor=${first.body.nextCursor}`,
    ).expect(200);
    expect(second.body.jobs).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.jobs, ...second.body.jobs].map((j: { id: string }) => j.id);
    expect(new Set(ids).size).toBe(3);
    expect(first.body.jobs[0]).toMatchObject({
      queue: 'analytics',
      name: 'analytics.daily-stats',
      state: 'completed',
      attemptsMade: 0,
      attempts: 1,
      createdAt: expect.any(String),
      processedAt: expect.any(String),
      finishedAt: expect.any(String),
      failedReason: null,
      correlationId: expect.any(String),
    });

    const failed = await read('/queues/analytics/jobs?state=failed').expect(200);
    expect(failed.body.jobs).toEqual([
      expect.objectContaining({
        id: 'always-fails',
        state: 'failed',
        attemptsMade: 1,
        failedReason: 'warehouse offline',
        correlationId: 'failed-request',
      }),
    ]);
    const active = await read('/queues/exports/jobs?state=active').expect(200);
    expect(active.body.jobs.map((j: { id: string }) => j.id)).toEqual([jobs.active]);
    const waiting = await read('/queues/exports/jobs?state=waiting').expect(200);
    expect(waiting.body.jobs.map((j: { id: string }) => j.id)).toEqual([jobs.waiting]);
    const delayed = await read('/queues/exports/jobs?state=delayed').expect(200);
    expect(delayed.body.jobs[0]).toMatchObject({
      id: jobs.delayed,
      delayedUntil: expect.any(String),
    });
  });

  it('filters a list by job name', async () => {
    const cleanup = await producer.enqueue(JobName.QueueCleanup, { trigger: 'manual' });
    await waitForState(QueueName.Analytics, String(cleanup.id), 'completed');
    const res = await read(
      '/queues/analytics/jobs?state=completed&name=maintenance.queue-cleanup',
    ).expect(200);
    expect(res.body.jobs.map((j: { id: string }) => j.id)).toEqual([String(cleanup.id)]);
    const none = await read('/queues/analytics/jobs?state=completed&name=export.payouts').expect(
      200,
    );
    expect(none.body).toEqual({ jobs: [], nextCursor: null });
  });

  it('shows one job in full, its data redacted by the queue list', async () => {
    const notifications = queues.get(QueueName.Notifications);
    const raw = await notifications.add(
      JobName.NotificationPayout,
      {
        payoutId: randomUUID(),
        outcome: 'paid',
        email: 'ada@example.com',
        provider: { apiKey: 'sk_live_123', region: 'eu' },
        meta: { correlationId: 'detail-request', enqueuedAt: Date.now(), origin: 'test' },
      },
      { delay: 3_600_000 },
    );
    await raw.log('queued for the provider');
    await raw.progress(40);
    const res = await read(`/queues/notifications/jobs/${raw.id}`).expect(200);
    expect(res.body).toMatchObject({
      id: String(raw.id),
      state: 'delayed',
      correlationId: 'detail-request',
      data: {
        outcome: 'paid',
        email: REDACTED,
        provider: { apiKey: REDACTED, region: 'eu' },
      },
      options: { delay: 3_600_000 },
      progress: 40,
      logs: ['queued for the provider'],
    });
    const failed = await read(`/queues/analytics/jobs/${jobs.failed}`).expect(200);
    expect(failed.body.failedReason).toBe('warehouse offline');
    expect(failed.body.failedReasonFull).toBe('warehouse offline\nat line two');
    expect(failed.body.stacktrace[0]).toMatch(/warehouse offline/);
    const done = await read(`/queues/analytics/jobs/${jobs.failed}`).expect(200);
    expect(done.body.returnValue).toBeNull();
  });

  it('answers bad input with a clear 4xx', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/queues/payoutz', 404, /Unknown queue "payoutz": use one of payouts, analytics/],
      ['/queues/payouts/jobs/no-such-job', 404, /No job "no-such-job" in queue "payouts"/],
      ['/queues/payouts/jobs/bad%20id!', 400, /id must be a job ID/],
      ['/queues/payouts/jobs?state=sleeping', 400, /state must be one of waiting, active/],
      ['/queues/payouts/jobs', 400, /state must be one of/],
      [
        '/queues/payouts/jobs?state=failed&limit=1000',
        400,
        /limit must be a whole number from 1 to 100/,
      ],
      ['/queues/payouts/jobs?state=failed&limit=two', 400, /limit must be a whole number/],
      ['/queues/payouts/jobs?state=failed&cursor=bm9wZQ', 400, /cursor is malformed/],
      ['/queues/payouts/jobs?state=failed&sort=asc', 400, /property sort should not exist/],
      ['/queues/unknown/jobs?state=failed', 404, /Unknown queue/],
    ];
    for (const [path, status, message] of cases) {
      const res = await read(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect([res.body.message].flat().join('\n')).toMatch(message);
    }
    // The trail is for operators and admins (a viewer gets 403 before any validation).
    const trailCases: Array<[string, RegExp]> = [
      ['/jobs/by-correlation/has%20space', /correlationId must be/],
      ['/jobs/by-correlation/abc?limit=501', /limit must be a whole number from 1 to 500/],
      ['/jobs/by-correlation/abc?cursor=bm9wZQ', /cursor is malformed/],
      ['/jobs/by-correlation/abc?cursor=%C3%A9', /cursor is malformed/],
    ];
    for (const [path, message] of trailCases) {
      const res = await request(http.server).get(path).set('Cookie', admin.cookie);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect([res.body.message].flat().join('\n')).toMatch(message);
    }
    await mutate('post', '/queues/analytics/clean', { state: 'active', graceMs: 0 }).expect(400);
    await mutate('post', '/queues/analytics/clean', { state: 'completed', graceMs: -1 }).expect(
      400,
    );
    await mutate('post', '/queues/analytics/retry-failed', { limit: 5000 }).expect(400);
    await mutate('post', '/queues/nope/pause').expect(404);
    await mutate('post', '/queues/analytics/jobs/missing/retry').expect(404);
    await mutate('post', '/queues/analytics/jobs/missing/promote').expect(404);
    await mutate('delete', '/queues/analytics/jobs/missing').expect(404);
    await mutate('delete', '/queues/analytics/jobs/bad%20id').expect(400);
    await mutate('post', '/queues/nope/resume').expect(404);
    await mutate('post', '/queues/nope/retry-failed').expect(404);
    await mutate('post', '/queues/nope/clean', { state: 'failed', graceMs: 0 }).expect(404);
    await mutate('post', '/queues/analytics/clean', {
      state: 'failed',
      graceMs: 0,
      extra: 1,
    }).expect(400);
    // Reads need a session; mutations need the admin role and the CSRF token.
    await request(http.server).get('/queues').expect(401);
    await request(http.server)
      .post('/queues/analytics/pause')
      .set('Cookie', viewer.cookie)
      .set('X-CSRF-Token', viewer.csrfToken)
      .expect(403);
    await request(http.server)
      .post('/queues/analytics/pause')
      .set('Cookie', admin.cookie)
      .expect(403);
  });

  it('retries a failed job, which runs again and succeeds; refuses to retry a job that did not fail', async () => {
    worker.behaviours.byJobId.set('fails-once', failOnce('provider timeout'));
    await producer.enqueue(JobName.AnalyticsDailyStats, {}, { jobId: 'fails-once' });
    await waitForState(QueueName.Analytics, 'fails-once', 'failed');

    const res = await mutate('post', '/queues/analytics/jobs/fails-once/retry').expect(200);
    expect(res.body).toMatchObject({ queue: 'analytics', id: 'fails-once' });
    await waitForState(QueueName.Analytics, 'fails-once', 'completed');
    expect(worker.behaviours.runsOf('fails-once')).toBe(2);

    const again = await mutate('post', '/queues/analytics/jobs/fails-once/retry').expect(409);
    expect(again.body.message).toMatch(
      /Only failed jobs can be retried; job fails-once is completed/,
    );

    const [done, refused] = await auditRows('job.retry', 'analytics/fails-once');
    expect(done).toMatchObject({
      actor_email: 'admin@example.com',
      target: 'analytics/fails-once',
      correlation_id: REQUEST_ID,
      detail: expect.objectContaining({ outcome: 'done', method: 'POST' }),
    });
    expect(refused.detail).toMatchObject({ outcome: 'refused', status: 409 });
  });

  it('promotes a delayed job and refuses to delete an active one', async () => {
    await mutate('post', `/queues/exports/jobs/${jobs.delayed}/promote`).expect(200);
    expect(await stateOf(QueueName.Exports, jobs.delayed)).toBe('waiting');
    const again = await mutate('post', `/queues/exports/jobs/${jobs.delayed}/promote`).expect(409);
    expect(again.body.message).toMatch(/Only delayed jobs can be promoted/);

    const refused = await mutate('delete', `/queues/exports/jobs/${jobs.active}`).expect(409);
    expect(refused.body.message).toMatch(/is active: a worker is running it/);
    expect(await stateOf(QueueName.Exports, jobs.active)).toBe('active');

    await mutate('delete', `/queues/exports/jobs/${jobs.waiting}`)
      .expect(200)
      .expect({ queue: 'exports', id: jobs.waiting, state: 'removed' });
    await read(`/queues/exports/jobs/${jobs.waiting}`).expect(404);

    exportsBlock.release();
    await waitForState(QueueName.Exports, jobs.active, 'completed');
    await waitForState(QueueName.Exports, jobs.delayed, 'completed');
    const outcomes = async (id: string) =>
      (await auditRows('job.remove', `exports/${id}`)).map((row) => row.detail.outcome);
    expect(await outcomes(jobs.active)).toEqual(['refused']);
    expect(await outcomes(jobs.waiting)).toEqual(['done']);
  });

  it('bulk-retries failed jobs, bounded by limit, and answers how many', async () => {
    const ids = ['bulk-1', 'bulk-2', 'bulk-3'];
    for (const id of ids) {
      worker.behaviours.byJobId.set(id, failOnce(`bulk ${id}`));
      await producer.enqueue(JobName.AnalyticsDailyStats, {}, { jobId: id });
    }
    for (const id of ids) await waitForState(QueueName.Analytics, id, 'failed');
    const failedBefore = await queues.get(QueueName.Analytics).getFailedCount();
    expect(failedBefore).toBe(4); // the three and always-fails

    const first = await mutate('post', '/queues/analytics/retry-failed', { limit: 2 }).expect(200);
    expect(first.body).toEqual({ queue: 'analytics', retried: 2, failedRemaining: 2 });
    const rest = await mutate('post', '/queues/analytics/retry-failed').expect(200);
    expect(rest.body.retried).toBe(2);
    for (const id of ids) await waitForState(QueueName.Analytics, id, 'completed');
    // always-fails ran again and failed again.
    await waitForState(QueueName.Analytics, 'always-fails', 'failed');
    expect(
      (await auditRows('queue.retry-failed', 'analytics')).find(
        (row) => row.detail.outcome === 'done',
      )!.detail,
    ).toMatchObject({
      outcome: 'done',
      body: { limit: 2 },
      result: { retried: 2 },
    });
  });

  it('cleans jobs of one state older than the grace period', async () => {
    const before = await queues.get(QueueName.Analytics).getCompletedCount();
    expect(before).toBeGreaterThan(0);
    const kept = await mutate('post', '/queues/analytics/clean', {
      state: 'completed',
      graceMs: 3_600_000,
    }).expect(200);
    expect(kept.body).toEqual({ queue: 'analytics', state: 'completed', removed: 0 });
    const res = await mutate('post', '/queues/analytics/clean', {
      state: 'completed',
      graceMs: 0,
    }).expect(200);
    expect(res.body.removed).toBe(before);
    expect(await queues.get(QueueName.Analytics).getCompletedCount()).toBe(0);
  });

  it('pauses and resumes a queue globally, and audits both', async () => {
    await mutate('post', '/queues/notifications/pause').expect(200, {
      queue: 'notifications',
      paused: true,
    });
    expect((await read('/queues/notifications').expect(200)).body.paused).toBe(true);
    await mutate('post', '/queues/notifications/resume').expect(200, {
      queue: 'notifications',
      paused: false,
    });
    const [pause] = await auditRows('queue.pause', 'notifications');
    expect(pause).toMatchObject({ target: 'notifications', correlation_id: REQUEST_ID });
    expect(await auditRows('queue.resume', 'notifications')).toHaveLength(1);
  });

  it("finds one request's jobs across queues by correlation ID", async () => {
    // The payout job enqueues its notification, which inherits the correlation ID (as in production).
    const workerProducer = worker.app.get(JobProducer);
    worker.behaviours.byName.set(JobName.PayoutProcess, async (job) => {
      const child = await workerProducer.enqueue(JobName.NotificationPayout, {
        payoutId: job.data.payoutId,
        outcome: 'paid',
      });
      return { notification: child.id };
    });
    const parent = await producer.enqueue(
      JobName.PayoutProcess,
      { payoutId: randomUUID() },
      { correlationId: 'trail-abc', origin: 'http POST /payouts' },
    );
    await producer.enqueue(
      JobName.PayoutProcess,
      { payoutId: randomUUID() },
      { correlationId: 'trail-other' },
    );
    await waitForState(QueueName.Payouts, String(parent.id), 'completed');
    const child = String(
      (await queues.get(QueueName.Payouts).getJob(String(parent.id)))!.returnvalue.notification,
    );
    await waitForState(QueueName.Notifications, child, 'completed');

    // A viewer gets the monitoring views, not a request's trail (operators and admins do).
    await read('/jobs/by-correlation/trail-abc').expect(403);
    const trail = (path: string) =>
      request(http.server).get(path).set('Cookie', admin.cookie).expect(200);
    const res = await trail('/jobs/by-correlation/trail-abc');
    expect(res.body).toMatchObject({ correlationId: 'trail-abc', missing: 0, nextCursor: null });
    expect(res.body.jobs.map((j: { queue: string; id: string }) => `${j.queue}/${j.id}`)).toEqual([
      `payouts/${parent.id}`,
      `notifications/${child}`,
    ]);
    expect(res.body.jobs.map((j: { state: string }) => j.state)).toEqual([
      'completed',
      'completed',
    ]);
    // Pages: one job each; the cursor leads to the second, the last page says so.
    const first = await trail('/jobs/by-correlation/trail-abc?limit=1');
    expect(first.body.jobs.map((j: { id: string }) => j.id)).toEqual([String(parent.id)]);
    const second = await trail(
      `/jobs/by-correlation/trail-abc?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.jobs.map((j: { id: string }) => j.id)).toEqual([child]);
    expect(second.body.nextCursor).toBeNull();
    const none = await trail('/jobs/by-correlation/nobody-sent-this');
    expect(none.body).toEqual({
      correlationId: 'nobody-sent-this',
      jobs: [],
      missing: 0,
      nextCursor: null,
    });
  });

  it('GET /metrics: bearer token, queue gauges from Redis, HTTP durations by route group', async () => {
    await request(http.server).get('/metrics').expect(401);
    await request(http.server).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    const res = await request(http.server)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}`)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const counts = await queues.get(QueueName.Analytics).getJobCounts();
    expect(metricSum(res.text, 'queue_jobs', { queue: 'analytics', state: 'failed' })).toBe(
      counts.failed,
    );
    expect(metricSum(res.text, 'queue_paused', { queue: 'notifications' })).toBe(0);
    const http200 = { group: 'authenticated', method: 'GET', status: '200' };
    expect(metricSum(res.text, 'http_request_duration_seconds_count', http200)).toBeGreaterThan(0);
    expect(
      metricSum(res.text, 'http_request_duration_seconds_count', { group: 'admin', status: '409' }),
    ).toBeGreaterThan(0);
    // Refused by the guard before any controller code: still timed, under its group.
    expect(
      metricSum(res.text, 'http_request_duration_seconds_count', {
        group: 'authenticated',
        status: '401',
      }),
    ).toBeGreaterThan(0);
    expect(metricSum(res.text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('worker metrics (METRICS_PORT): after N jobs the counters say N and the histograms have N samples', async () => {
    await request(`http://127.0.0.1:${metricsPort}`).get('/metrics').expect(401);
    const labels = { queue: 'notifications', job: 'notification.payout' };
    const before = await workerMetrics();
    // Jobs of the tests before this one may still be counted in memory (written once a second):
    // write them now so they are not taken for this test's jobs.
    await worker.app.get(ThroughputStore).flush();
    const throughputBefore = (await read('/queues/notifications').expect(200)).body.throughput;
    const N = 5;
    const added = [];
    for (let i = 0; i < N; i += 1) {
      added.push(
        await producer.enqueue(JobName.NotificationPayout, {
          payoutId: randomUUID(),
          outcome: 'paid',
        }),
      );
    }
    for (const job of added)
      await waitForState(QueueName.Notifications, String(job.id), 'completed');
    const after = await waitUntil(
      async () => {
        const text = await workerMetrics();
        const delta =
          metricSum(text, 'jobs_completed_total', labels) -
          metricSum(before, 'jobs_completed_total', labels);
        return delta >= N ? text : undefined;
      },
      { message: 'the completed counter to move' },
    );
    const delta = (name: string, extra: Record<string, string> = {}) =>
      metricSum(after, name, { ...labels, ...extra }) -
      metricSum(before, name, { ...labels, ...extra });
    expect(delta('jobs_completed_total')).toBe(N);
    expect(delta('job_processing_seconds_count', { outcome: 'completed' })).toBe(N);
    expect(delta('job_wait_seconds_count')).toBe(N);
    expect(delta('jobs_failed_total')).toBe(0);
    // Queue gauges come from the API instances only.
    expect(after).not.toMatch(/^queue_jobs\{/m);
    const throughput = await waitUntil(
      async () => {
        const body = (await read('/queues/notifications').expect(200)).body.throughput;
        return body.lastHour.completed - throughputBefore.lastHour.completed === N
          ? body
          : undefined;
      },
      { message: 'the shared throughput to count the jobs' },
    );
    expect(throughput.lastHour.failed).toBe(throughputBefore.lastHour.failed);
  });
});
