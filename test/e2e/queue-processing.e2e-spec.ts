import { getQueueToken } from '@nestjs/bull';
import { INestApplicationContext, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Job, Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { CorrelationContext } from '../../src/correlation';
import {
  JobHandler,
  JobName,
  JobProducer,
  PermanentJobError,
  QueueName,
  QueueProcessor,
} from '../../src/queue';
import { startTestRedis, testConfig, testEnv, TestRedis } from '../support/services';
import { queueLayerImports } from '../support/test-worker';
import { finishedJob } from '../support/wait';

type Behaviour = (job: Job, correlation: CorrelationContext) => Promise<unknown>;
const behaviour = new Map<JobName, Behaviour>();
interface Seen {
  name: string;
  jobId: string;
  correlationId?: string;
  meta: { correlationId: string; origin: string; enqueuedAt: number } | undefined;
  attempt: number;
  at: number;
}
const seen: Seen[] = [];

/** Records what a handler saw (including the CLS correlation ID), then does what the test asked. */
@Injectable()
class Recorder {
  constructor(private readonly correlation: CorrelationContext) {}
  run(name: JobName, job: Job): Promise<unknown> {
    seen.push({
      name,
      jobId: String(job.id),
      correlationId: this.correlation.id,
      meta: job.data.meta,
      attempt: job.attemptsMade + 1,
      at: Date.now(),
    });
    return (behaviour.get(name) ?? (async () => 'ok'))(job, this.correlation);
  }
}

@Injectable()
@QueueProcessor(QueueName.Payouts)
class PayoutsTestProcessor {
  constructor(private readonly r: Recorder) {}
  @JobHandler(JobName.PayoutCycle) handleCycle(job: Job) {
    return this.r.run(JobName.PayoutCycle, job);
  }
  @JobHandler(JobName.PayoutPayPayee) handlePayPayee(job: Job) {
    return this.r.run(JobName.PayoutPayPayee, job);
  }
  @JobHandler(JobName.PayoutProcess) handleProcess(job: Job) {
    return this.r.run(JobName.PayoutProcess, job);
  }
  @JobHandler(JobName.PayoutReconcile) handleReconcile(job: Job) {
    return this.r.run(JobName.PayoutReconcile, job);
  }
}

@Injectable()
@QueueProcessor(QueueName.Analytics)
class AnalyticsTestProcessor {
  constructor(private readonly r: Recorder) {}
  @JobHandler(JobName.AnalyticsDailyStats) handleStats(job: Job) {
    return this.r.run(JobName.AnalyticsDailyStats, job);
  }
  @JobHandler(JobName.QueueCleanup) handleCleanup(job: Job) {
    return this.r.run(JobName.QueueCleanup, job);
  }
  @JobHandler(JobName.RedisLossCheck) handleRedisLossCheck(job: Job) {
    return this.r.run(JobName.RedisLossCheck, job);
  }
}

@Injectable()
@QueueProcessor(QueueName.Notifications)
class NotificationsTestProcessor {
  constructor(private readonly r: Recorder) {}
  @JobHandler(JobName.NotificationPayout) handle(job: Job) {
    return this.r.run(JobName.NotificationPayout, job);
  }
}

@Injectable()
@QueueProcessor(QueueName.Exports)
class ExportsTestProcessor {
  constructor(private readonly r: Recorder) {}
  @JobHandler(JobName.ExportPayouts) handle(job: Job) {
    return this.r.run(JobName.ExportPayouts, job);
  }
}

const ALL_PROCESSORS: Array<new (...args: never[]) => object> = [
  PayoutsTestProcessor,
  AnalyticsTestProcessor,
  NotificationsTestProcessor,
  ExportsTestProcessor,
];

async function boot(
  redis: TestRedis,
  processors = ALL_PROCESSORS,
  env: Record<string, string> = {},
): Promise<INestApplicationContext> {
  const config = testConfig(
    testEnv(redis.url, 'postgres://unused@127.0.0.1:1/unused', {
      JOB_ATTEMPTS: '3',
      JOB_BACKOFF_DELAY: '100',
      JOB_TIMEOUT: '1s',
      ...env,
    }),
  );
  const moduleRef = await Test.createTestingModule({
    imports: queueLayerImports(config),
    providers: [Recorder, ...processors],
  })
    .setLogger({ log() {}, warn() {}, error() {}, debug() {}, verbose() {} })
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    return await app.init();
  } catch (error) {
    await app.close();
    throw error;
  }
}

describe('Queues: typed producer, decorated processors, retries and timeouts (real Redis)', () => {
  let redis: TestRedis;
  let app: INestApplicationContext;
  let producer: JobProducer;

  beforeAll(async () => {
    redis = await startTestRedis();
    app = await boot(redis);
    producer = app.get(JobProducer);
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  beforeEach(() => {
    behaviour.clear();
    seen.length = 0;
  });

  const payloads = {
    [QueueName.Payouts]: () => producer.enqueue(JobName.PayoutProcess, { payoutId: randomUUID() }),
    [QueueName.Analytics]: () =>
      producer.enqueue(JobName.AnalyticsDailyStats, { day: '2026-01-01' }),
    [QueueName.Notifications]: () =>
      producer.enqueue(JobName.NotificationPayout, { payoutId: randomUUID(), outcome: 'paid' }),
    [QueueName.Exports]: () => producer.enqueue(JobName.ExportPayouts, { exportId: randomUUID() }),
  };

  it.each(Object.values(QueueName))(
    'processes a job added to %s through the producer, with meta and CLS',
    async (queueName) => {
      const job = await payloads[queueName]();
      const queue = app.get<Queue>(getQueueToken(queueName));
      const done = await finishedJob(queue, String(job.id));
      expect(await done.getState()).toBe('completed');
      expect(done.returnvalue).toBe('ok');
      const record = seen.find((s) => s.jobId === String(job.id));
      expect(record?.meta?.correlationId).toEqual(expect.any(String));
      expect(record?.meta?.enqueuedAt).toEqual(expect.any(Number));
      // The handler ran inside a CLS context restored from the job's meta.
      expect(record?.correlationId).toBe(record?.meta?.correlationId);
    },
  );

  it('retries a throwing job with exponential backoff up to its attempts, then fails with the reason', async () => {
    behaviour.set(JobName.AnalyticsDailyStats, async () => {
      throw new Error('warehouse unavailable');
    });
    const job = await producer.enqueue(JobName.AnalyticsDailyStats, {});
    const done = await finishedJob(app.get(getQueueToken(QueueName.Analytics)), String(job.id));
    expect(await done.getState()).toBe('failed');
    expect(done.failedReason).toBe('warehouse unavailable');
    expect(done.attemptsMade).toBe(3);
    const runs = seen.filter((s) => s.jobId === String(job.id));
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // Exponential backoff from JOB_BACKOFF_DELAY=100: at least 100 ms, then at least 200 ms.
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(100);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(200);
  });

  it('fails a job that runs longer than JOB_TIMEOUT as timed out', async () => {
    behaviour.set(
      JobName.ExportPayouts,
      () => new Promise((resolve) => setTimeout(resolve, 3_000)),
    );
    const job = await producer.enqueue(
      JobName.ExportPayouts,
      { exportId: randomUUID() },
      { attempts: 1 },
    );
    const done = await finishedJob(app.get(getQueueToken(QueueName.Exports)), String(job.id));
    expect(await done.getState()).toBe('failed');
    expect(done.failedReason).toMatch(/timed out/i);
  });

  it('does not retry a PermanentJobError', async () => {
    behaviour.set(JobName.PayoutPayPayee, async () => {
      throw new PermanentJobError('payee closed their account');
    });
    const job = await producer.enqueue(JobName.PayoutPayPayee, { payeeId: 7 });
    const done = await finishedJob(app.get(getQueueToken(QueueName.Payouts)), String(job.id));
    expect(await done.getState()).toBe('failed');
    expect(done.failedReason).toBe('payee closed their account');
    expect(seen.filter((s) => s.jobId === String(job.id))).toHaveLength(1);
  });

  it('fails malformed data from another producer with a clear reason, without retrying or blocking the queue', async () => {
    const queue = app.get<Queue>(getQueueToken(QueueName.Payouts));
    const bad = await queue.add(JobName.PayoutProcess, { payoutId: 'not-a-uuid' });
    const unknown = await queue.add('payout.unknown-kind', { anything: true });
    const good = await queue.add(JobName.PayoutProcess, { payoutId: randomUUID() });
    const [badDone, unknownDone, goodDone] = await Promise.all(
      [bad, unknown, good].map((job) => finishedJob(queue, String(job.id))),
    );
    expect(badDone.failedReason).toMatch(/Invalid data for job "payout.process": payoutId/);
    expect(badDone.attemptsMade).toBe(1);
    expect(unknownDone.failedReason).toMatch(/No handler for job name "payout.unknown-kind"/);
    // A job without meta (added by another tool) still runs, with a generated correlation ID.
    expect(await goodDone.getState()).toBe('completed');
    expect(seen.find((s) => s.jobId === String(good.id))?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('carries the correlation ID into jobs enqueued by a job', async () => {
    behaviour.set(JobName.PayoutProcess, async (job) => {
      const child = await producer.enqueue(JobName.NotificationPayout, {
        payoutId: job.data.payoutId,
        outcome: 'paid',
      });
      return child.id;
    });
    const parent = await producer.enqueue(
      JobName.PayoutProcess,
      { payoutId: randomUUID() },
      { correlationId: 'request-abc-123', origin: 'test' },
    );
    const parentDone = await finishedJob(
      app.get(getQueueToken(QueueName.Payouts)),
      String(parent.id),
    );
    const child = await finishedJob(
      app.get(getQueueToken(QueueName.Notifications)),
      String(parentDone.returnvalue),
    );
    expect(child.data.meta.correlationId).toBe('request-abc-123');
    expect(child.data.meta.origin).toBe(`job payouts/payout.process#${parent.id}`);
  });
});

describe('Queues: wiring checks at boot', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(() => redis?.stop());

  it('refuses to start when a job name has no handler, naming the job and the fix', async () => {
    const missingExports = ALL_PROCESSORS.filter((p) => p !== ExportsTestProcessor);
    await expect(boot(redis, missingExports)).rejects.toThrow(
      /Job "export.payouts" \(queue "exports"\) has no handler: decorate a method with @JobHandler/,
    );
  });

  it('refuses to start when a job name has two handlers', async () => {
    @Injectable()
    @QueueProcessor(QueueName.Exports)
    class SecondExportsProcessor {
      @JobHandler(JobName.ExportPayouts) handle() {
        return 'again';
      }
    }
    await expect(boot(redis, [...ALL_PROCESSORS, SecondExportsProcessor])).rejects.toThrow(
      /Job "export.payouts" has two handlers/,
    );
  });
});
