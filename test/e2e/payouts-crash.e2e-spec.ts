import { AppProcess } from '../support/app-process';
import {
  bootApp,
  chargesFor,
  createPayees,
  moneyInvariantViolations,
  TestApp,
  waitForStatus,
} from '../support/payouts-fixtures';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

jest.setTimeout(90_000);

/*
 * Real worker processes from dist/ (run `npx nest build` first). A worker killed with SIGKILL
 * while the provider is answering (the money has moved, the payout is not marked paid) leaves
 * a stalled job; once its Bull lock lapses another worker takes it over and finishes the
 * payout, and the provider's idempotency key turns the second transfer into a replay.
 */
describe('Payouts: a worker process killed mid-payout (real processes)', () => {
  let redis: TestRedis;
  let api: TestApp | undefined;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await api?.close();
    await redis?.stop();
  });

  function worker(env: Record<string, string>): AppProcess {
    const child = new AppProcess('worker', env);
    processes.push(child);
    return child;
  }

  it('leaves the payout to another worker, which finishes it with a single charge', async () => {
    const db = await createTestDatabase();
    api = await bootApp('api', redis.url, db);
    const env = testEnv(redis.url, db, {
      QUEUE_PREFIX: api.config.redis.prefix,
      LOG_LEVEL: 'info',
      // A killed worker's job is retaken ~2-3 s after its last lock renewal.
      QUEUE_LOCK_DURATION: '2s',
      QUEUE_STALLED_INTERVAL: '1s',
    });
    const [payee] = await createPayees(db, [{ earnings: [12_345] }]);

    const doomed = worker({ ...env, PROVIDER_LATENCY: '30s' });
    await doomed.waitReady();
    const { payoutId } = (await api.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };

    // The provider has charged and is slow to answer: kill the worker now.
    await waitUntil(async () => (await chargesFor(db, payoutId))[0]?.reference, {
      message: 'the provider to record the charge',
    });
    doomed.signal('SIGKILL');
    expect(await doomed.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await query(db, 'SELECT status FROM payouts WHERE id = $1', [payoutId])).toEqual([
      { status: 'processing' },
    ]);

    const rescuer = worker({ ...env, PROVIDER_LATENCY: '50ms' });
    await rescuer.waitReady();
    await waitForStatus(db, payoutId, 'paid', 30_000);

    const [payout] = await query<{ provider_reference: string; attempts: number }>(
      db,
      'SELECT provider_reference, attempts FROM payouts WHERE id = $1',
      [payoutId],
    );
    // One charge; the rescuer's transfer was answered as a replay of the first.
    expect(await chargesFor(db, payoutId)).toEqual([
      expect.objectContaining({
        reference: payout.provider_reference,
        amount_minor: 12_345,
        request_count: 2,
        charge_count: 2,
      }),
    ]);
    expect(payout.attempts).toBe(2);
    const events = await query<{ to_status: string; detail: string }>(
      db,
      'SELECT to_status, detail FROM payout_events WHERE payout_id = $1 ORDER BY id',
      [payoutId],
    );
    expect(events.map((e) => e.to_status)).toEqual(['pending', 'processing', 'processing', 'paid']);
    expect(events[2].detail).toMatch(/already processing/);
    expect(await moneyInvariantViolations(db)).toEqual([]);

    expect(await rescuer.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
