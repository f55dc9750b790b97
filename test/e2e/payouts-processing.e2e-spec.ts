import { CorrelationContext } from '../../src/correlation';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { PayoutProcessingService } from '../../src/payout/payout-processing.service';
import {
  appsOnTestRedis,
  chargesFor,
  createPayees,
  finishedJob,
  JobName,
  JobProducer,
  moneyInvariantViolations,
  QueueName,
  sameQueues,
  waitForStatus,
} from '../support/payouts-fixtures';
import { createTestDatabase, query } from '../support/services';
import { waitUntil } from '../support/wait';

jest.setTimeout(60_000);

/*
 * The payout processor: one charge per payout whatever runs twice, retries with backoff, and
 * a final failure that gives the balance back once.
 * Apps with the `api` role produce jobs without processing them (payouts stay pending for the
 * test to inspect or race on); `worker` apps process them. Each app has its own pools, like a
 * separate process.
 */
describe('Payouts: exactly-once processing (real PostgreSQL + Redis)', () => {
  const { boot } = appsOnTestRedis();

  it('charges once when the same payout job runs twice, and when two workers race on it', async () => {
    const db = await createTestDatabase();
    const worker = await boot('worker', db);
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

    // Two instances run the same payout: the second arrives while the first is waiting for the
    // (slow) provider, finds the payout taken and leaves it; the provider is called once.
    const api1 = await boot('api', db, { PROVIDER_LATENCY: '1s' });
    const api2 = await boot('api', db, { PROVIDER_LATENCY: '1s', ...sameQueues(api1) });
    const racing = (await api1.get(PayoutCycleService).payPayee(second)) as { payoutId: string };
    const attempt = { attempt: 1, maxAttempts: 5 };
    const firstRun = api1.get(PayoutProcessingService).process(racing.payoutId, attempt);
    await waitForStatus(db, racing.payoutId, 'processing');
    const secondRun = api2.get(PayoutProcessingService).process(racing.payoutId, attempt);
    const outcomes = await Promise.all([firstRun, secondRun]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['paid', 'busy']);
    expect(await chargesFor(db, racing.payoutId)).toEqual([
      expect.objectContaining({ request_count: 1, charge_count: 1 }),
    ]);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });

  it('pays every payout once with two worker instances on the same queue', async () => {
    const db = await createTestDatabase();
    const w1 = await boot('worker', db, { QUEUE_CONCURRENCY_PAYOUTS: '4' });
    const w2 = await boot('worker', db, {
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
    const worker = await boot('worker', db, {
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
    const worker = await boot('worker', db, {
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

    // The job fails with the payout's reason, where operators look, and says how to pay again.
    const queue = worker.queue(QueueName.Payouts);
    const failedJob = await finishedJob(queue, payoutId);
    expect(await failedJob.getState()).toBe('failed');
    expect(failedJob.failedReason).toMatch(
      /failed: gave up after 2 attempts.*POST \/payees\/:id\/pay/,
    );

    // Running it again neither gives the balance back twice nor notifies twice: it refuses.
    await failedJob.remove();
    await producer.enqueue(JobName.PayoutProcess, { payoutId }, { jobId: payoutId });
    expect((await finishedJob(queue, payoutId)).failedReason).toMatch(/had already failed/);
    expect(await moneyInvariantViolations(db)).toEqual([]);
    const notifications = await query<{ status: string; attempts: number }>(
      db,
      'SELECT status, attempts FROM notifications WHERE payout_id = $1',
      [payoutId],
    );
    expect(notifications).toEqual([{ status: 'logged', attempts: 1 }]);
  });

  it('a creator job cut off between its commit and its enqueue enqueues its orphaned payouts when it runs again', async () => {
    const db = await createTestDatabase();
    const worker = await boot('worker', db);
    const [payNow, inCycle] = await createPayees(db, [
      { earnings: [4_200] },
      { earnings: [9_900] },
    ]);
    const producer = worker.get(JobProducer);
    const queue = worker.queue(QueueName.Payouts);
    // The enqueue after the commit fails once, as if the worker died there: the payout exists,
    // pending, with no job.
    const cutOff = () =>
      jest
        .spyOn(producer, 'enqueueBulk')
        .mockRejectedValueOnce(new Error('the worker died between commit and enqueue'));

    // Pay-now through its real job: attempt 1 is cut off, Bull retries the same job.
    cutOff();
    const job = await producer.enqueue(JobName.PayoutPayPayee, { payeeId: payNow });
    const finished = await finishedJob(queue, String(job.id));
    expect(finished.attemptsMade).toBe(1); // one failed attempt before the one that completed
    const { payoutId } = finished.returnvalue as { payoutId: string };
    expect(payoutId).toEqual(expect.any(String));
    await waitForStatus(db, payoutId, 'paid');

    // The cycle, run twice under the same creator job (a stalled job taken over keeps its ID).
    cutOff();
    const cycle = worker.get(PayoutCycleService);
    await expect(cycle.runCycle({ creatorJob: 'payout.cycle:42' })).rejects.toThrow(
      'between commit and enqueue',
    );
    const [orphan] = await query<{ id: string; status: string }>(
      db,
      'SELECT id, status FROM payouts WHERE payee_id = $1',
      [inCycle],
    );
    expect(orphan.status).toBe('pending');
    expect(await queue.getJob(orphan.id)).toBeNull();
    const rerun = await cycle.runCycle({ creatorJob: 'payout.cycle:42' });
    expect(rerun.payoutsCreated).toBe(0); // the balance was already taken by the orphan
    await waitForStatus(db, orphan.id, 'paid');
    expect(await chargesFor(db, orphan.id)).toHaveLength(1);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });
});
