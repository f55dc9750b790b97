import request from 'supertest';
import { AppProcess } from '../support/app-process';
import { sessionCookie } from '../support/http-app';
import { OtlpReceiver, ReceivedSpan, SPAN_KIND } from '../support/otlp-receiver';
import { createPayees } from '../support/payouts-fixtures';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'tracing@example.com', password: 'a long enough password' };

/** The jobs one "pay this payee" request causes, each enqueued by the one before it. */
const CHAIN = ['payout.pay-payee', 'payout.process', 'notification.payout'] as const;

/**
 * Traces across two real processes: an api process and a worker process export OTLP/HTTP (JSON)
 * to a receiver run by the test. One request, the job it enqueues and the jobs that job enqueues
 * in turn make one trace, each span the child of the one that caused it.
 */
describe('Tracing with OpenTelemetry (api + worker processes, OTLP/HTTP)', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let receiver: OtlpReceiver;
  let api: AppProcess;
  let worker: AppProcess;
  let apiUrl: string;
  let cookie: string;
  let csrfToken: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    receiver = await OtlpReceiver.start();
    const env = testEnv(redis.url, databaseUrl, {
      LOG_LEVEL: 'debug',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      PROVIDER_LATENCY: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const port = String(await freePort());
    apiUrl = `http://127.0.0.1:${port}`;
    api = new AppProcess('main', { ...env, APP_ROLE: 'api', PORT: port, HOST: '127.0.0.1' });
    await api.waitReady();
    worker = new AppProcess('worker', env);
    await worker.waitReady();
    const login = await request(apiUrl).post('/auth/login').send(ADMIN).expect(200);
    cookie = sessionCookie(login.headers['set-cookie']);
    csrfToken = login.body.csrfToken;
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await Promise.all([redis?.stop(), receiver?.stop()]);
  });

  async function pay(headers: Record<string, string> = {}): Promise<{ jobId: string }> {
    const [payeeId] = await createPayees(databaseUrl, [
      { currency: 'USD', minimumMinor: 100, earnings: [4200] },
    ]);
    const req = request(apiUrl)
      .post(`/payees/${payeeId}/pay`)
      .set('Cookie', cookie)
      .set('X-CSRF-Token', csrfToken);
    for (const [name, value] of Object.entries(headers)) req.set(name, value);
    const res = await req.expect(202);
    return { jobId: res.body.jobId as string };
  }

  /** The server span of the request that enqueued the pay-payee job with this ID. */
  function requestSpanOf(jobId: string): Promise<ReceivedSpan> {
    return waitUntil(
      () => {
        const producer = receiver.spans.find(
          (span) =>
            span.kind === SPAN_KIND.PRODUCER &&
            span.attributes['bull.job.name'] === 'payout.pay-payee' &&
            span.attributes['messaging.message.id'] === jobId,
        );
        return producer && parentOf(producer, SPAN_KIND.SERVER);
      },
      { message: `the request span that enqueued job ${jobId}` },
    );
  }

  /** The nearest ancestor of a span with this kind, through the spans received so far. */
  function parentOf(span: ReceivedSpan, kind: number): ReceivedSpan | undefined {
    let current: ReceivedSpan | undefined = span;
    while (current?.parentSpanId) {
      const parentId: string = current.parentSpanId;
      current = receiver.spans.find((s) => s.traceId === span.traceId && s.spanId === parentId);
      if (current?.kind === kind) return current;
    }
    return undefined;
  }

  /** Waits until the trace holds a completed run span of every job of the chain. */
  function chainOf(traceId: string): Promise<ReceivedSpan[]> {
    return waitUntil(
      () => {
        const runs = CHAIN.map((name) =>
          receiver
            .trace(traceId)
            .find(
              (span) =>
                span.kind === SPAN_KIND.CONSUMER && span.attributes['bull.job.name'] === name,
            ),
        );
        return runs.every(Boolean) ? (runs as ReceivedSpan[]) : undefined;
      },
      { message: `the run spans of ${CHAIN.join(', ')} in trace ${traceId}` },
    );
  }

  function byId(traceId: string, spanId: string | undefined): ReceivedSpan | undefined {
    return receiver.trace(traceId).find((span) => span.spanId === spanId);
  }

  it('makes one trace of a request, its job and the jobs that job enqueued, across both processes', async () => {
    const { jobId } = await pay();
    const requestSpan = await requestSpanOf(jobId);
    expect(requestSpan).toMatchObject({ service: 'payouts-api', parentSpanId: undefined });
    expect(requestSpan.name).toBe('POST /payees/:id/pay');
    expect(requestSpan.attributes['app.correlation_id']).toEqual(expect.any(String));

    const traceId = requestSpan.traceId;
    const runs = await chainOf(traceId);

    // Each run's parent is the producer span of its enqueue, whose parent is what enqueued it:
    // the request for the first job, the previous job's run for the next ones.
    let cause = requestSpan;
    for (const [index, run] of runs.entries()) {
      expect(run).toMatchObject({
        service: 'payouts-worker',
        name: `process ${run.attributes['messaging.destination.name']}/${CHAIN[index]}`,
      });
      expect(run.attributes).toMatchObject({
        'messaging.system': 'bull',
        'bull.job.name': CHAIN[index],
        'bull.job.attempt': 1,
        'messaging.message.id': expect.any(String),
      });
      const producer = byId(traceId, run.parentSpanId);
      expect(producer).toMatchObject({
        kind: SPAN_KIND.PRODUCER,
        name: `publish ${run.attributes['messaging.destination.name']}/${CHAIN[index]}`,
        service: index === 0 ? 'payouts-api' : 'payouts-worker',
      });
      expect(parentOf(producer!, cause.kind)?.spanId).toBe(cause.spanId);
      cause = run;
    }
    expect(runs[0].attributes['messaging.message.id']).toBe(jobId);
    expect(runs.map((run) => run.attributes['messaging.destination.name'])).toEqual([
      'payouts',
      'payouts',
      'notifications',
    ]);

    // PostgreSQL and Redis calls of the request and of the jobs are spans of the same trace.
    const calls = await waitUntil(
      () => {
        const spans = receiver.trace(traceId);
        const pg = spans.filter(
          (s) =>
            s.attributes['db.system'] === 'postgresql' ||
            s.attributes['db.system.name'] === 'postgresql',
        );
        const redisCalls = spans.filter(
          (s) =>
            s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis',
        );
        const services = (list: ReceivedSpan[]) => new Set(list.map((s) => s.service));
        return services(pg).size === 2 && services(redisCalls).size === 2
          ? { pg, redisCalls }
          : undefined;
      },
      { message: 'PostgreSQL and Redis spans from both processes' },
    );
    expect(calls.pg.every((s) => s.kind === SPAN_KIND.CLIENT)).toBe(true);

    // The worker's log lines of each run name its trace and span, beside the correlation ID.
    for (const run of runs) {
      const line = await worker.waitForLog(
        (l) =>
          l.jobId === run.attributes['messaging.message.id'] &&
          l.jobName === run.attributes['bull.job.name'],
        `a log line of ${String(run.attributes['bull.job.name'])}`,
      );
      expect(line).toMatchObject({
        traceId,
        spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
        correlationId: requestSpan.attributes['app.correlation_id'],
      });
    }

    // Every span but the request's has its parent in the same trace.
    const spans = receiver.trace(traceId);
    const orphans = spans.filter((s) => s !== requestSpan && !byId(traceId, s.parentSpanId));
    expect(orphans.map((s) => `${s.service} ${s.name}`)).toEqual([]);
  });

  it('continues the trace of an incoming traceparent header', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const { jobId } = await pay({
      traceparent: `00-${traceId}-${callerSpanId}-01`,
      tracestate: 'caller=abc',
    });
    const requestSpan = await requestSpanOf(jobId);
    expect(requestSpan).toMatchObject({ traceId, parentSpanId: callerSpanId });
    const runs = await chainOf(traceId);
    expect(runs.map((run) => run.service)).toEqual(CHAIN.map(() => 'payouts-worker'));
  });

  it('starts a new trace when the incoming traceparent is malformed', async () => {
    const { jobId } = await pay({ traceparent: '00-zz-not-a-trace-01', tracestate: '=,=' });
    const requestSpan = await requestSpanOf(jobId);
    expect(requestSpan.parentSpanId).toBeUndefined();
    expect(requestSpan.traceId).toMatch(/^[0-9a-f]{32}$/);
    await chainOf(requestSpan.traceId);
  });
});
