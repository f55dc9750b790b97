import 'reflect-metadata';
import request from 'supertest';
import { JobName, JobProducer, QueueName } from '../../src/queue';
import { QueueRegistry } from '../../src/queue/queue-registry';
import { AppProcess } from '../support/app-process';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import { metricSum } from '../support/metrics';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const METRICS_TOKEN = 'worker-metrics-token';
// The e2e project's testTimeout is not applied by Jest (a global-only option): set it here.
jest.setTimeout(60_000);

/**
 * The API in this process (role api: it processes nothing) and a real worker process built
 * from dist/ (`npx nest build` first; the test command builds). Whatever the real handlers do
 * with these jobs, a job that a worker took has processedOn set: that is what is asserted.
 */
describe('Queue pause and resume across processes', () => {
  let redis: TestRedis;
  let http: HttpApp;
  let worker: AppProcess;
  let admin: Session;
  let producer: JobProducer;
  let queues: QueueRegistry;
  let metricsUrl: string;

  const takenByAWorker = async (queue: QueueName, id: string | number) =>
    Boolean((await queues.get(queue).getJob(String(id)))?.processedOn);
  const waitTaken = (queue: QueueName, id: string | number) =>
    waitUntil(() => takenByAWorker(queue, id), {
      timeoutMs: 20_000,
      message: `${queue} job ${id} to be taken by the worker process\n${worker.tail()}`,
    });
  const mutate = (path: string) =>
    request(http.server)
      .post(path)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken);

  beforeAll(async () => {
    redis = await startTestRedis();
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    const env = testEnv(redis.url, await createTestDatabase(), {
      METRICS_TOKEN,
      HOST: '127.0.0.1',
    });
    http = await createHttpApp({ ...env, APP_ROLE: 'api' });
    worker = new AppProcess('worker', {
      ...env,
      LOG_LEVEL: 'info',
      METRICS_PORT: String(metricsPort),
    });
    await worker.waitReady();
    await createUser(http, 'admin@example.com', 'admin');
    admin = await login(http.server, 'admin@example.com');
    producer = http.app.get(JobProducer);
    queues = http.app.get(QueueRegistry);
  });

  afterAll(async () => {
    await worker?.stop();
    await http?.close();
    await redis?.stop();
  });

  it('sees the other process attached as a worker of every queue', async () => {
    const body = await waitUntil(
      async () => {
        const res = await request(http.server).get('/queues').set('Cookie', admin.cookie);
        const attached = res.body.queues.every((q: { workers: number }) => q.workers === 1);
        return attached ? res.body : undefined;
      },
      { message: 'the worker process to attach to every queue' },
    );
    expect(body.queues).toHaveLength(4);
  });

  it('pause stops a worker in another process from taking jobs; resume restarts it', async () => {
    const before = await producer.enqueue(JobName.AnalyticsDailyStats, { day: '2026-02-01' });
    await waitTaken(QueueName.Analytics, before.id);

    await mutate('/queues/analytics/pause').expect(200, { queue: 'analytics', paused: true });
    const held = await producer.enqueue(JobName.AnalyticsDailyStats, { day: '2026-02-02' });
    // The worker keeps working on the other queues: a job there, enqueued after the held one,
    // is taken, so the worker had every chance to take the held job too.
    const probe = await producer.enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
    await waitTaken(QueueName.Payouts, probe.id);
    const other = await producer.enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
    await waitTaken(QueueName.Payouts, other.id);
    expect(await takenByAWorker(QueueName.Analytics, held.id)).toBe(false);
    expect(await queues.get(QueueName.Analytics).getPausedCount()).toBe(1);

    await mutate('/queues/analytics/resume').expect(200, { queue: 'analytics', paused: false });
    await waitTaken(QueueName.Analytics, held.id);
  });

  it('serves the worker process metrics on METRICS_PORT, behind the token', async () => {
    await request(metricsUrl).get('/metrics').expect(401);
    await request(metricsUrl).get('/other').expect(404);
    const text = await waitUntil(
      async () => {
        const res = await request(metricsUrl)
          .get('/metrics')
          .set('Authorization', `Bearer ${METRICS_TOKEN}`)
          .expect(200);
        // Both analytics jobs and both reconciles finished (whatever their outcome).
        const finished = metricSum(res.text, 'job_processing_seconds_count', {
          queue: 'analytics',
        });
        return finished >= 2 ? res.text : undefined;
      },
      { message: 'the worker metrics to count the analytics jobs' },
    );
    expect(metricSum(text, 'job_wait_seconds_count', { queue: 'payouts' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(metricSum(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
