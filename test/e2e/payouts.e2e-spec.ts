import { ConflictException, NotFoundException } from '@nestjs/common';
import { Client } from 'pg';
import { CorrelationContext } from '../../src/correlation';
import { PayoutAdminService } from '../../src/payout/payout-admin.service';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { PayoutProcessingService } from '../../src/payout/payout-processing.service';
import {
  addEarnings,
  bootApp,
  chargesFor,
  createPayees,
  finishedJob,
  JobName,
  JobProducer,
  moneyInvariantViolations,
  QueueName,
  sameQueues,
  TestApp,
  waitForStatus,
} from '../support/payouts-fixtures';
import { createTestDatabase, query, startTestRedis, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

jest.setTimeout(60_000);

/*
 * The payout cycle, the processor and the reconciler on real PostgreSQL and Redis. Apps with
 * the `api` role produce jobs without processing them (so payouts stay pending for the test to
 * inspect or race on); `worker` apps process them. Each app has its own connection pools.
 */
describe('Payouts: cycle, exactly-once processing, reconciler (real PostgreSQL + Redis)', () => {
  let redis: TestRedis;
  const apps: TestApp[] = [];

  async function boot(...args: Parameters<typeof bootApp>): Promise<TestApp> {
    const app = await bootApp(...args);
    apps.push(app);
    return app;
  }

  async function closeAll(): Promise<void> {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  }

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(closeAll);
  afterAll(async () => {
    await closeAll();
    await redis?.stop();
  });

  it('creates one pending payout with its debit per due payee, page by page; a second cycle creates none', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', redis.url, db, { PAYOUT_CYCLE_BATCH_SIZE: '7' });
    const due = await createPayees(db, [
      ...Array.from({ length: 20 }, (_, i) => ({ earnings: [600, 400 + i] })), // >= 1000
      { currency: 'JPY', minimumMinor: 500, earnings: [500] },
    ]);
    const notDue = await createPayees(db, [
      { earnings: [999] },
      { earnings: [5_000], active: false },
      { earnings: [] },
      { minimumMinor: 10_000, earnings: [9_000] },
    ]);

    const summary = await api.get(PayoutCycleService).runCycle();

    expect(summary.payeesScanned).toBe(due.length + notDue.length - 1); // the inactive one
    expect(summary.payoutsCreated).toBe(due.length);
    const payouts = await query<{
      id: string;
      payee_id: string;
      amount_minor: string;
      status: string;
      idempotency_key: string;
    }>(
      db,
      'SELECT id, payee_id, amount_minor, status, idempotency_key FROM payouts ORDER BY payee_id',
    );
    expect(payouts.map((p) => Number(p.payee_id))).toEqual(due);
    expect(payouts.every((p) => p.status === 'pending')).toBe(true);
    expect(Number(payouts[0].amount_minor)).toBe(1_000);
    expect(payouts[0].idempotency_key).toMatch(/^payee:\d+:through:\d+$/);
    // One job per payout, whose job ID is the payout ID.
    const queue = api.queue(QueueName.Payouts);
    for (const payout of payouts) {
      const job = await queue.getJob(payout.id);
      expect(job?.name).toBe(JobName.PayoutProcess);
      expect(job?.data.payoutId).toBe(payout.id);
    }
    expect(await moneyInvariantViolations(db)).toEqual([]);

    const again = await api.get(PayoutCycleService).runCycle();
    expect(again.payoutsCreated).toBe(0);
    expect(await query(db, 'SELECT id FROM payouts')).toHaveLength(due.length);
  });

  it('creates each payout once when two cycles (two instances) start at the same moment', async () => {
    const db = await createTestDatabase();
    const a = await boot('api', redis.url, db, { PAYOUT_CYCLE_BATCH_SIZE: '25' });
    const b = await boot('api', redis.url, db, { PAYOUT_CYCLE_BATCH_SIZE: '40', ...sameQueues(a) });
    const payees = await createPayees(
      db,
      Array.from({ length: 150 }, (_, i) => ({ earnings: [1_000 + i] })),
    );
    for (let round = 0; round < 3; round++) {
      const [first, second] = await Promise.all([
        a.get(PayoutCycleService).runCycle(),
        b.get(PayoutCycleService).runCycle(),
      ]);
      expect(first.payoutsCreated + second.payoutsCreated).toBe(payees.length);
      for (const id of payees) await addEarnings(db, id, [2_000]);
    }
    const perPayee = await query<{ n: string }>(
      db,
      'SELECT count(*) AS n FROM payouts GROUP BY payee_id',
    );
    expect(perPayee).toHaveLength(payees.length);
    expect(perPayee.every((row) => Number(row.n) === 3)).toBe(true);
    expect(await moneyInvariantViolations(db)).toEqual([]);

    // Ten "pay now" requests for one payee at once: one payout.
    const [lone] = await createPayees(db, [{ earnings: [300] }]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).get(PayoutCycleService).payPayee(lone)),
    );
    expect(results.filter((r) => r.payoutId !== null)).toHaveLength(1);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });

  it('charges once when the same payout job runs twice, and when two workers race on it', async () => {
    const db = await createTestDatabase();
    const worker = await boot('worker', redis.url, db);
    const [first, second] = await createPayees(db, [{ earnings: [1_500] }, { earnings: [2_500] }]);

    // The same job delivered twice: the second run finds the payout paid and skips it.
    const { payoutId } = (await worker.get(PayoutCycleService).payPayee(first)) as {
      payoutId: string;
    };
    const queue = worker.queue(QueueName.Payouts);
    expect((await finishedJob(queue, payoutId)).returnvalue).toMatchObject({ outcome: 'paid' });
    await (await queue.getJob(payoutId))?.remove();
    await worker.get(JobProducer).enqueue(JobName.PayoutProcess, { payoutId }, { jobId: payoutId });
    expect((await finishedJob(queue, payoutId)).returnvalue).toEqual({
      outcome: 'skipped',
      status: 'paid',
    });
    expect(await chargesFor(db, payoutId)).toEqual([
      expect.objectContaining({ request_count: 1, charge_count: 1, amount_minor: 1500 }),
    ]);

    // Two instances run the same payout at the same moment (slow provider): one pays, the other
    // sees it taken; the provider is called once.
    const api1 = await boot('api', redis.url, db, { PROVIDER_LATENCY: '300ms' });
    const api2 = await boot('api', redis.url, db, {
      PROVIDER_LATENCY: '300ms',
      ...sameQueues(api1),
    });
    const racing = (await api1.get(PayoutCycleService).payPayee(second)) as { payoutId: string };
    const attempt = { attempt: 1, maxAttempts: 5 };
    const outcomes = await Promise.all([
      api1.get(PayoutProcessingService).process(racing.payoutId, attempt),
      api2.get(PayoutProcessingService).process(racing.payoutId, attempt),
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['busy', 'paid']);
    expect(await chargesFor(db, racing.payoutId)).toEqual([
      expect.objectContaining({ request_count: 1, charge_count: 1 }),
    ]);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });

  it('pays every payout once with two worker instances on the same queue', async () => {
    const db = await createTestDatabase();
    const w1 = await boot('worker', redis.url, db, { QUEUE_CONCURRENCY_PAYOUTS: '4' });
    const w2 = await boot('worker', redis.url, db, {
      QUEUE_CONCURRENCY_PAYOUTS: '4',
      ...sameQueues(w1),
    });
    await createPayees(
      db,
      Array.from({ length: 60 }, () => ({ earnings: [1_200] })),
    );
    await Promise.all([
      w1.get(PayoutCycleService).runCycle(),
      w2.get(PayoutCycleService).runCycle(),
    ]);
    await waitUntil(
      async () => (await query(db, "SELECT id FROM payouts WHERE status = 'paid'")).length === 60,
      { message: '60 paid payouts' },
    );
    const charges = await query<{ request_count: number }>(
      db,
      'SELECT request_count FROM simulated_provider_charges',
    );
    expect(charges).toHaveLength(60);
    expect(charges.every((c) => c.request_count === 1)).toBe(true);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });

  it('retries transient provider errors with backoff: N failures then success is one charge, paid', async () => {
    const db = await createTestDatabase();
    const worker = await boot('worker', redis.url, db, {
      PROVIDER_FAIL_FIRST_ATTEMPTS: '2',
      JOB_ATTEMPTS: '4',
      JOB_BACKOFF_DELAY: '50',
    });
    const [payee] = await createPayees(db, [{ earnings: [4_200] }]);
    const { payoutId } = (await worker.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };

    await waitForStatus(db, payoutId, 'paid');
    const job = await finishedJob(worker.queue(QueueName.Payouts), payoutId);
    expect(job.attemptsMade).toBe(2); // Bull counts the failed attempts
    const [payout] = await query<{ attempts: number; provider_reference: string }>(
      db,
      'SELECT attempts, provider_reference FROM payouts WHERE id = $1',
      [payoutId],
    );
    expect(payout.attempts).toBe(3);
    expect(await chargesFor(db, payoutId)).toEqual([
      expect.objectContaining({
        request_count: 3,
        charge_count: 1,
        reference: payout.provider_reference,
      }),
    ]);
    const events = await query<{ from_status: string | null; to_status: string; detail: string }>(
      db,
      'SELECT from_status, to_status, detail FROM payout_events WHERE payout_id = $1 ORDER BY id',
      [payoutId],
    );
    expect(events.map((e) => `${e.from_status ?? '-'}>${e.to_status}`)).toEqual([
      '->pending',
      'pending>processing',
      'processing>processing', // attempt 1 failed
      'processing>processing', // attempt 2
      'processing>processing', // attempt 2 failed
      'processing>processing', // attempt 3
      'processing>paid',
    ]);
    expect(events.filter((e) => /failed: Simulated provider outage/.test(e.detail))).toHaveLength(
      2,
    );
  });

  it('fails the payout on its last attempt, gives the balance back once, and notifies with the correlation ID', async () => {
    const db = await createTestDatabase();
    const worker = await boot('worker', redis.url, db, {
      PROVIDER_FAIL_FIRST_ATTEMPTS: '5',
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_DELAY: '50',
    });
    const [payee] = await createPayees(db, [{ earnings: [3_000, 700] }]);
    const producer = worker.get(JobProducer);
    // As in a request or job: the correlation ID is in context when the payout is created.
    const { payoutId } = (await worker
      .get(CorrelationContext)
      .run({ correlationId: 'corr-final-failure' }, () =>
        worker.get(PayoutCycleService).payPayee(payee),
      )) as { payoutId: string };
    await waitForStatus(db, payoutId, 'failed');

    const [payout] = await query<{ last_error: string; correlation_id: string }>(
      db,
      'SELECT last_error, correlation_id FROM payouts WHERE id = $1',
      [payoutId],
    );
    expect(payout.last_error).toMatch(/^gave up after 2 attempts: Simulated provider outage/);
    const [balance] = await query<{ sum: string }>(
      db,
      'SELECT sum(amount_minor) FROM ledger_entries WHERE payee_id = $1',
      [payee],
    );
    expect(Number(balance.sum)).toBe(3_700);
    expect(await chargesFor(db, payoutId)).toEqual([
      expect.objectContaining({ reference: null, charge_count: 0 }),
    ]);

    // The notification job carries the correlation ID of the job that failed the payout, and
    // every status change is recorded with it.
    expect(payout.correlation_id).toBe('corr-final-failure');
    const notification = await finishedJob(
      worker.queue(QueueName.Notifications),
      `notify-${payoutId}-failed`,
    );
    expect(notification.data).toMatchObject({ payoutId, outcome: 'failed' });
    expect(notification.data.meta.correlationId).toBe('corr-final-failure');
    const eventCorrelations = await query<{ correlation_id: string }>(
      db,
      'SELECT DISTINCT correlation_id FROM payout_events WHERE payout_id = $1',
      [payoutId],
    );
    expect(eventCorrelations).toEqual([{ correlation_id: 'corr-final-failure' }]);

    // Running the finished job again neither gives the balance back twice nor notifies twice.
    const queue = worker.queue(QueueName.Payouts);
    await finishedJob(queue, payoutId);
    await (await queue.getJob(payoutId))?.remove();
    await producer.enqueue(JobName.PayoutProcess, { payoutId }, { jobId: payoutId });
    expect((await finishedJob(queue, payoutId)).returnvalue).toEqual({
      outcome: 'skipped',
      status: 'failed',
    });
    expect(await moneyInvariantViolations(db)).toEqual([]);
    const notifications = await query<{ status: string; attempts: number }>(
      db,
      'SELECT status, attempts FROM notifications WHERE payout_id = $1',
      [payoutId],
    );
    expect(notifications).toEqual([{ status: 'logged', attempts: 1 }]);
  });

  it('cancels only a pending payout, giving its amount back once (409 otherwise, 404 if unknown)', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', redis.url, db);
    const [payee] = await createPayees(db, [{ earnings: [2_000] }]);
    const { payoutId } = (await api.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };
    const admin = api.get(PayoutAdminService);

    await expect(admin.cancel(payoutId)).resolves.toMatchObject({ status: 'cancelled' });
    await expect(admin.cancel(payoutId)).rejects.toThrow(ConflictException);
    await expect(admin.cancel('7b0a3c1e-7f4e-4a53-9d55-2d4c3c8e1f00')).rejects.toThrow(
      NotFoundException,
    );
    // The job still in the queue finds the payout cancelled and does not pay it.
    expect(
      await api.get(PayoutProcessingService).process(payoutId, { attempt: 1, maxAttempts: 1 }),
    ).toEqual({ outcome: 'skipped', status: 'cancelled' });
    const detail = await admin.get(payoutId);
    expect(detail.events.map((e) => e.toStatus)).toEqual(['pending', 'cancelled']);
    expect(await moneyInvariantViolations(db)).toEqual([]);

    // The balance is back: the next cycle pays it.
    const next = await api.get(PayoutCycleService).runCycle();
    expect(next.payoutsCreated).toBe(1);
    expect((await api.get(PayoutCycleService).payPayee(payee)).payoutId).toBeNull();
  });

  it('the reconciler re-enqueues a payout whose job was lost from Redis, and one whose job already finished', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', redis.url, db);
    const [lostPayee, finishedPayee] = await createPayees(db, [
      { earnings: [1_100] },
      { earnings: [1_300] },
    ]);
    await api.get(PayoutCycleService).runCycle();
    const [lost] = await query<{ id: string }>(db, 'SELECT id FROM payouts WHERE payee_id = $1', [
      lostPayee,
    ]);
    const [finished] = await query<{ id: string }>(
      db,
      'SELECT id FROM payouts WHERE payee_id = $1',
      [finishedPayee],
    );
    const queue = api.queue(QueueName.Payouts);
    await (await queue.getJob(lost.id))?.remove(); // lost from Redis

    // Another session holds the second payout's lock: its job completes as "busy" and the
    // payout stays pending with a finished job, whose ID Bull would refuse to reuse.
    const holder = new Client({ connectionString: db });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [finished.id]);
      const worker = await boot('worker', redis.url, db, sameQueues(api));
      expect((await finishedJob(queue, finished.id)).returnvalue).toEqual({ outcome: 'busy' });
      await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [finished.id]);

      // Nothing moves them until they are older than PAYOUT_STUCK_AFTER (10 minutes by default).
      const early = await worker
        .get(JobProducer)
        .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
      expect((await finishedJob(queue, String(early.id))).returnvalue).toMatchObject({
        requeued: 0,
      });
      await query(db, "UPDATE payouts SET updated_at = now() - interval '1 hour'");

      const run = await worker
        .get(JobProducer)
        .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
      expect((await finishedJob(queue, String(run.id))).returnvalue).toEqual({
        stuck: 2,
        requeued: 2,
        stillQueued: 0,
      });
      await waitForStatus(db, lost.id, 'paid');
      await waitForStatus(db, finished.id, 'paid');
    } finally {
      await holder.end();
    }
    const notes = await query<{ detail: string }>(
      db,
      "SELECT detail FROM payout_events WHERE detail LIKE 're-enqueued%' ORDER BY payout_id = $1 DESC",
      [lost.id],
    );
    expect(notes.map((n) => n.detail)).toEqual([
      're-enqueued by the reconciler (job missing from Redis)',
      're-enqueued by the reconciler (job completed)',
    ]);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });
});
