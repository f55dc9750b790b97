import { ConflictException, NotFoundException } from '@nestjs/common';
import { PayoutAdminService } from '../../src/payout/payout-admin.service';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { PayoutProcessingService } from '../../src/payout/payout-processing.service';
import {
  addEarnings,
  appsOnTestRedis,
  createPayees,
  JobName,
  moneyInvariantViolations,
  QueueName,
  sameQueues,
} from '../support/payouts-fixtures';
import { createTestDatabase, query } from '../support/services';

jest.setTimeout(60_000);

/*
 * The payout cycle on real PostgreSQL and Redis: one payout per due balance, however many cycles
 * run at once.
 * Apps with the `api` role produce jobs without processing them (payouts stay pending for the
 * test to inspect or race on); `worker` apps process them. Each app has its own pools, like a
 * separate process.
 */
describe('Payouts: the payout cycle and cancellations (real PostgreSQL + Redis)', () => {
  const { boot } = appsOnTestRedis();

  it('creates one pending payout with its debit per due payee, page by page; a second cycle creates none', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', db, { PAYOUT_CYCLE_BATCH_SIZE: '7' });
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
    const a = await boot('api', db, { PAYOUT_CYCLE_BATCH_SIZE: '25' });
    const b = await boot('api', db, { PAYOUT_CYCLE_BATCH_SIZE: '40', ...sameQueues(a) });
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
      await addEarnings(db, payees, [2_000]);
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

  it('cancels only a pending payout, giving its amount back once (409 otherwise, 404 if unknown)', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', db);
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
});
