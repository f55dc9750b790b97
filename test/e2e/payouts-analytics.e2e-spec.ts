import { AnalyticsService } from '../../src/analytics/analytics.service';
import {
  bootApp,
  createPayees,
  finishedJob,
  JobName,
  JobProducer,
  QueueName,
  TestApp,
} from '../support/payouts-fixtures';
import { createTestDatabase, query, startTestRedis, TestRedis } from '../support/services';

jest.setTimeout(60_000);

describe('Analytics: daily payout statistics (real PostgreSQL + Redis)', () => {
  let redis: TestRedis;
  let db: string;
  let worker: TestApp;

  beforeAll(async () => {
    redis = await startTestRedis();
    db = await createTestDatabase();
    worker = await bootApp('worker', redis.url, db);
    const [payee] = await createPayees(db, [{ earnings: [] }]);
    // Finished payouts on 2026-03-01 and 2026-03-02 (UTC), in two currencies, plus open ones.
    const rows: Array<[string, string, number, string | null, string | null]> = [
      ['paid', 'EUR', 1_000, '2026-03-01 10:00:00+00', '2026-03-01 10:00:01.500+00'],
      ['paid', 'EUR', 2_500, '2026-03-01 23:59:58+00', '2026-03-01 23:59:59.500+00'],
      ['failed', 'EUR', 700, '2026-03-01 12:00:00+00', '2026-03-01 12:00:05+00'],
      ['paid', 'USD', 4_000, '2026-03-01 08:00:00+00', '2026-03-01 08:00:02+00'],
      ['paid', 'EUR', 9_000, '2026-03-01 23:59:59+00', '2026-03-02 00:00:00.500+00'], // next day
      ['pending', 'EUR', 5_000, null, null],
      ['cancelled', 'EUR', 6_000, null, '2026-03-01 11:00:00+00'],
    ];
    for (const [i, [status, currency, amount, started, finished]] of rows.entries()) {
      await query(
        db,
        `INSERT INTO payouts (payee_id, amount_minor, currency, status, idempotency_key,
                              processing_started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [payee, amount, currency, status, `stats:${i}`, started, finished],
      );
    }
  });
  afterAll(async () => {
    await worker?.close();
    await redis?.stop();
  });

  const stored = () =>
    query(
      db,
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, currency, paid_count, paid_sum_minor, failed_count,
              avg_processing_ms FROM daily_payout_stats ORDER BY day, currency`,
    );

  it('computes count, sum, failures and average processing time per day and currency, idempotently', async () => {
    const producer = worker.get(JobProducer);
    const queue = worker.queue(QueueName.Analytics);
    for (const day of ['2026-03-01', '2026-03-02']) {
      const job = await producer.enqueue(JobName.AnalyticsDailyStats, { day });
      expect(await (await finishedJob(queue, String(job.id))).getState()).toBe('completed');
    }
    const expected = [
      {
        day: '2026-03-01',
        currency: 'EUR',
        paid_count: 2,
        paid_sum_minor: 3_500,
        failed_count: 1,
        avg_processing_ms: 1_500,
      },
      {
        day: '2026-03-01',
        currency: 'USD',
        paid_count: 1,
        paid_sum_minor: 4_000,
        failed_count: 0,
        avg_processing_ms: 2_000,
      },
      {
        day: '2026-03-02',
        currency: 'EUR',
        paid_count: 1,
        paid_sum_minor: 9_000,
        failed_count: 0,
        avg_processing_ms: 1_500,
      },
    ];
    expect(await stored()).toEqual(expected);

    // Again, and twice at once: the same rows.
    await Promise.all([
      worker.get(AnalyticsService).computeDailyStats('2026-03-01'),
      worker.get(AnalyticsService).computeDailyStats('2026-03-01'),
    ]);
    expect(await stored()).toEqual(expected);
  });

  it('computes yesterday and today (UTC) by default, and refuses an impossible day', async () => {
    const result = await worker
      .get(AnalyticsService)
      .computeDailyStats(undefined, new Date('2026-03-02T09:00:00Z'));
    expect(result.map((r) => `${r.day} ${r.currency}`)).toEqual([
      '2026-03-01 EUR',
      '2026-03-01 USD',
      '2026-03-02 EUR',
    ]);
    const job = await worker
      .get(JobProducer)
      .enqueue(JobName.AnalyticsDailyStats, { day: '2026-02-30' });
    const done = await finishedJob(worker.queue(QueueName.Analytics), String(job.id));
    expect(done.failedReason).toBe('"2026-02-30" is not a calendar day (YYYY-MM-DD)');
    expect(done.attemptsMade).toBe(1);
  });
});
