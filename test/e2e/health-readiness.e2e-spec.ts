import request from 'supertest';
import { createHttpApp, HttpApp } from '../support/http-app';
import { metricSum } from '../support/metrics';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

// The e2e project's testTimeout is not applied by Jest (a global-only option): set it here.
jest.setTimeout(60_000);

describe('Readiness and metrics follow Redis', () => {
  let redis: TestRedis;
  let http: HttpApp;

  beforeAll(async () => {
    redis = await startTestRedis();
    http = await createHttpApp(testEnv(redis.url, await createTestDatabase(), { APP_ROLE: 'api' }));
  });

  afterAll(async () => {
    await http?.close();
    await redis?.stop();
  });

  it('answers 503 while Redis is down and 200 once it is back; liveness stays 200', async () => {
    const up = await request(http.server).get('/health/ready').expect(200);
    expect(up.body.info).toMatchObject({ redis: { status: 'up' }, database: { status: 'up' } });

    await redis.stop();
    const down = await waitUntil(
      async () => {
        const res = await request(http.server).get('/health/ready');
        return res.status === 503 ? res : undefined;
      },
      { message: 'readiness to report Redis down' },
    );
    expect(down.body.error).toMatchObject({ redis: { status: 'down' } });
    expect(down.body.info).toMatchObject({ database: { status: 'up' } });
    await request(http.server).get('/health/live').expect(200);
    // Metrics still answer, without stale queue numbers.
    const metrics = await request(http.server).get('/metrics').expect(200);
    expect(metricSum(metrics.text, 'queue_metrics_up')).toBe(0);
    expect(metrics.text).not.toMatch(/^queue_jobs\{/m);

    await redis.restart();
    await waitUntil(async () => (await request(http.server).get('/health/ready')).status === 200, {
      timeoutMs: 20_000,
      message: 'readiness to recover once Redis is back',
    });
    const back = await waitUntil(
      async () => {
        const res = await request(http.server).get('/metrics');
        return metricSum(res.text, 'queue_metrics_up') === 1 ? res.text : undefined;
      },
      { message: 'queue gauges to be read again' },
    );
    expect(metricSum(back, 'queue_jobs', { queue: 'payouts', state: 'waiting' })).toBe(0);
  });
});
