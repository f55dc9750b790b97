import { Controller, Post } from '@nestjs/common';
import request from 'supertest';
import { Admin } from '../../src/http/route-group.decorator';
import { JobName, JobProducer } from '../../src/queue';
import { createHttpApp, createUser, HttpApp, login } from '../support/http-app';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';

@Controller('test-enqueue')
class EnqueueController {
  constructor(private readonly producer: JobProducer) {}

  @Admin()
  @Post()
  async enqueue() {
    const job = await this.producer.enqueue(JobName.AnalyticsDailyStats, { day: '2026-01-02' });
    return { jobId: job.id, meta: job.data.meta };
  }
}

describe('Correlation IDs on the request path', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startTestRedis();
  });

  afterAll(() => redis?.stop());

  describe('enabled (default)', () => {
    let http: HttpApp;
    beforeAll(async () => {
      http = await createHttpApp(
        testEnv(redis.url, await createTestDatabase(), { APP_ROLE: 'api' }),
        [EnqueueController],
      );
      await createUser(http, 'admin@example.com', 'admin');
    });
    afterAll(() => http?.close());

    it('echoes a sane incoming X-Correlation-Id (or X-Request-Id)', async () => {
      const res = await request(http.server)
        .get('/health/live')
        .set('X-Correlation-Id', 'order-42:retry.1')
        .expect(200);
      expect(res.headers['x-correlation-id']).toBe('order-42:retry.1');
      const viaRequestId = await request(http.server)
        .get('/health/live')
        .set('X-Request-Id', 'lb-abc-123')
        .expect(200);
      expect(viaRequestId.headers['x-correlation-id']).toBe('lb-abc-123');
    });

    it('gives a request refused for its body (malformed JSON) an ID too', async () => {
      const res = await request(http.server)
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .set('X-Correlation-Id', 'bad-body-1')
        .send('{"email": ')
        .expect(400);
      expect(res.headers['x-correlation-id']).toBe('bad-body-1');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it.each([
      ['a value with spaces and <script>', 'has spaces'],
      ['x'.repeat(129), 'too long'],
      ['crlf\tinjection', 'control character'],
    ])('replaces an unsafe value (%s: %s) with a fresh UUID', async (unsafe) => {
      const res = await request(http.server)
        .get('/health/live')
        .set('X-Correlation-Id', unsafe)
        .expect(200);
      expect(res.headers['x-correlation-id']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    });

    it('generates one when none is sent, and stamps it into the jobs the request enqueues', async () => {
      const { cookie, csrfToken } = await login(http.server, 'admin@example.com');
      const res = await request(http.server)
        .post('/test-enqueue')
        .set('Cookie', cookie)
        .set('X-CSRF-Token', csrfToken)
        .set('X-Correlation-Id', 'req-into-job-1')
        .expect(201);
      expect(res.headers['x-correlation-id']).toBe('req-into-job-1');
      expect(res.body.meta).toMatchObject({
        correlationId: 'req-into-job-1',
        origin: 'http POST /test-enqueue',
      });
      expect(res.body.meta.enqueuedAt).toEqual(expect.any(Number));
    });
  });

  describe('disabled (ENABLE_CORRELATION_IDS=false)', () => {
    let http: HttpApp;
    beforeAll(async () => {
      http = await createHttpApp(
        testEnv(redis.url, await createTestDatabase(), {
          APP_ROLE: 'api',
          ENABLE_CORRELATION_IDS: 'false',
        }),
        [EnqueueController],
      );
      await createUser(http, 'admin@example.com', 'admin');
    });
    afterAll(() => http?.close());

    it('sends no header and does no CLS work on the request', async () => {
      const res = await request(http.server)
        .get('/health/live')
        .set('X-Correlation-Id', 'ignored-1')
        .expect(200);
      expect(res.headers['x-correlation-id']).toBeUndefined();
      const { cookie, csrfToken } = await login(http.server, 'admin@example.com');
      const job = await request(http.server)
        .post('/test-enqueue')
        .set('Cookie', cookie)
        .set('X-CSRF-Token', csrfToken)
        .expect(201);
      // No request context: the job still gets an ID of its own, not the caller's.
      expect(job.body.meta.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(job.body.meta.origin).toBe('unknown');
    });
  });
});
