import 'reflect-metadata';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { JobName, JobProducer } from '../queue';
import { CreatePayoutsOptions, LedgerRepository } from './ledger.repository';
import { PayoutCycleService } from './payout-cycle.service';

/** Payees 1..n; the even ones are due with a balance of 100 * id. */
class FakeLedger {
  pages: Array<[number, number]> = [];
  createCalls: Array<{ ids: number[]; options: CreatePayoutsOptions }> = [];

  constructor(private readonly payees: number) {}

  async activePayeeIds(afterId: number, limit: number): Promise<number[]> {
    this.pages.push([afterId, limit]);
    const ids: number[] = [];
    for (let id = afterId + 1; id <= this.payees && ids.length < limit; id++) ids.push(id);
    return ids;
  }

  async payeesDue(ids: number[]): Promise<number[]> {
    return ids.filter((id) => id % 2 === 0);
  }

  async createPayouts(ids: number[], options: CreatePayoutsOptions) {
    this.createCalls.push({ ids, options });
    return ids.map((id) => ({
      id: `payout-${id}`,
      payeeId: id,
      amountMinor: 100 * id,
      currency: 'EUR',
    }));
  }
}

function setup(payees: number, batchSize: number) {
  const ledger = new FakeLedger(payees);
  const enqueued: Array<{ name: JobName; jobs: Array<{ payload: unknown; jobId?: string }> }> = [];
  const producer = {
    enqueueBulk: async (name: JobName, jobs: Array<{ payload: unknown; jobId?: string }>) => {
      enqueued.push({ name, jobs });
      return [];
    },
  } as unknown as JobProducer;
  const correlation = { currentOrNew: () => 'corr-cycle' } as CorrelationContext;
  const config = { payouts: { cycleBatchSize: batchSize } } as AppConfig;
  const service = new PayoutCycleService(
    ledger as unknown as LedgerRepository,
    producer,
    correlation,
    config,
  );
  return { ledger, enqueued, service };
}

describe('PayoutCycleService', () => {
  it('walks the payees in keyset pages and pays the due ones, one job per payout with its ID as job ID', async () => {
    const { ledger, enqueued, service } = setup(7, 3);
    const batches: number[] = [];
    const summary = await service.runCycle({ onBatch: (s) => void batches.push(s.payeesScanned) });

    expect(ledger.pages).toEqual([
      [0, 3],
      [3, 3],
      [6, 3],
      [7, 3],
    ]);
    expect(ledger.createCalls.map((c) => c.ids)).toEqual([[2], [4, 6], []]);
    expect(ledger.createCalls[0].options).toEqual({
      ignoreMinimum: false,
      correlationId: 'corr-cycle',
      detail: 'created by the payout cycle',
      createdByJob: null,
    });
    expect(enqueued.flatMap((e) => e.jobs)).toEqual([
      { payload: { payoutId: 'payout-2' }, jobId: 'payout-2' },
      { payload: { payoutId: 'payout-4' }, jobId: 'payout-4' },
      { payload: { payoutId: 'payout-6' }, jobId: 'payout-6' },
    ]);
    expect(enqueued.every((e) => e.name === JobName.PayoutProcess)).toBe(true);
    expect(summary).toMatchObject({
      payeesScanned: 7,
      payoutsCreated: 3,
      amountMinorByCurrency: { EUR: 1_200 },
    });
    expect(batches).toEqual([3, 6, 7]);
  });

  it('pays one payee now whatever its minimum, or says why not', async () => {
    const { ledger, service } = setup(10, 5);
    await expect(service.payPayee(4)).resolves.toEqual({
      payoutId: 'payout-4',
      amountMinor: 400,
      currency: 'EUR',
    });
    expect(ledger.createCalls[0].options.ignoreMinimum).toBe(true);
    ledger.createPayouts = async () => [];
    await expect(service.payPayee(5)).resolves.toEqual({
      payoutId: null,
      reason: 'no positive balance, or the payee is unknown or inactive',
    });
  });
});
