import { AppProcess } from '../support/app-process';
import {
  bootApp,
  chargesFor,
  createPayees,
  finishedJob,
  JobName,
  JobProducer,
  moneyInvariantViolations,
  QueueName,
  TestApp,
  waitForStatus,
} from '../support/payouts-fixtures';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

jest.setTimeout(90_000);

/*
 * Real worker processes from dist/ (run `npx nest build` first). A worker killed with SIGKILL,
 * or frozen with SIGSTOP, while the provider is answering (the money has moved, the payout is
 * not marked paid) leaves a stalled job and a payout lease; once both lapse another worker takes
 * the payout over and finishes it, and the provider's idempotency key turns the second transfer
 * into a replay. A frozen worker that wakes up finds its finish refused (fencing token).
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

  /**
   * A fresh database and API, and worker settings under which a dead or frozen worker's payout
   * is taken over within seconds: Bull's lock lapses after 2 s, the payout lease 4 s after the
   * claim, and a provider call is cut at 3 s.
   */
  async function freshStack(overrides: Record<string, string> = {}) {
    const db = await createTestDatabase();
    await api?.close();
    api = await bootApp('api', redis.url, db);
    const env = testEnv(redis.url, db, {
      QUEUE_PREFIX: api.config.redis.prefix,
      LOG_LEVEL: 'info',
      QUEUE_LOCK_DURATION: '2s',
      QUEUE_STALLED_INTERVAL: '1s',
      PROVIDER_TIMEOUT: '3s',
      PAYOUT_LEASE: '4s',
      ...overrides,
    });
    return { db, env, api };
  }

  /** Pays the payee now and waits until the provider recorded the charge (its answer pending). */
  async function payUntilCharged(app: TestApp, db: string, payee: number): Promise<string> {
    const { payoutId } = (await app.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };
    await waitUntil(async () => (await chargesFor(db, payoutId))[0]?.reference, {
      message: 'the provider to record the charge',
    });
    return payoutId;
  }

  it('leaves the payout to another worker, which finishes it with a single charge', async () => {
    const { db, env, api: app } = await freshStack();
    const [payee] = await createPayees(db, [{ earnings: [12_345] }]);

    const doomed = worker({ ...env, PROVIDER_LATENCY: '30s' });
    await doomed.waitReady();
    // The provider has charged and is slow to answer: kill the worker now.
    const payoutId = await payUntilCharged(app, db, payee);
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
    expect(events[2].detail).toMatch(/taken over from .*, whose lease lapsed/);
    expect(await moneyInvariantViolations(db)).toEqual([]);

    expect(await rescuer.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('takes over from a frozen worker once its lease lapses; the worker, thawed, finds its finish refused', async () => {
    const { db, env, api: app } = await freshStack();
    const [payee] = await createPayees(db, [{ earnings: [5_432] }]);
    const frozen = worker({ ...env, PROVIDER_LATENCY: '2s' });
    await frozen.waitReady();
    const payoutId = await payUntilCharged(app, db, payee);
    frozen.signal('SIGSTOP'); // a host that freezes (VM paused, GC pause, lost network) mid-call

    const rescuer = worker({ ...env, PROVIDER_LATENCY: '50ms' });
    await rescuer.waitReady();
    // Paid by the rescuer while the first worker is still frozen: no wait for its TCP session.
    await waitForStatus(db, payoutId, 'paid', 30_000);
    frozen.signal('SIGCONT');
    const refused = await waitUntil(
      async () =>
        (
          await query<{ detail: string }>(
            db,
            "SELECT detail FROM payout_events WHERE payout_id = $1 AND detail LIKE '%was refused%'",
            [payoutId],
          )
        )[0],
      { message: "the thawed worker's refused finish to be recorded", timeoutMs: 30_000 },
    );
    expect(refused.detail).toMatch(/its lease was taken over while the provider was called/);

    const charges = await chargesFor(db, payoutId);
    expect(charges).toHaveLength(1);
    const [payout] = await query<{ provider_reference: string; outcome_unknown_at: Date | null }>(
      db,
      'SELECT provider_reference, outcome_unknown_at FROM payouts WHERE id = $1',
      [payoutId],
    );
    expect(payout.provider_reference).toBe(charges[0].reference);
    expect(payout.outcome_unknown_at).not.toBeNull(); // taken over: money may have moved
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });

  it('cuts hung provider calls at PROVIDER_TIMEOUT without draining the connection pool', async () => {
    const {
      db,
      env,
      api: app,
    } = await freshStack({
      PROVIDER_TIMEOUT: '1500ms',
      PAYOUT_LEASE: '3s',
    });
    const payees = await createPayees(
      db,
      Array.from({ length: 8 }, (_, i) => ({ earnings: [1_000 + i] })),
    );
    // 8 calls hang at once on a pool of 2 connections.
    const hanging = worker({
      ...env,
      PROVIDER_HANG_RATE: '1',
      DATABASE_POOL_SIZE: '2',
      QUEUE_CONCURRENCY_PAYOUTS: '8',
    });
    await hanging.waitReady();
    const payoutIds: string[] = [];
    for (const payee of payees) {
      payoutIds.push(
        ((await app.get(PayoutCycleService).payPayee(payee)) as { payoutId: string }).payoutId,
      );
    }
    await waitUntil(
      async () =>
        Number(
          (
            await query<{ n: string }>(
              db,
              'SELECT count(*) AS n FROM simulated_provider_charges WHERE request_count > 0',
            )
          )[0].n,
        ) === payees.length,
      { message: 'every call to reach the hanging provider' },
    );
    // While all eight hang, the worker still runs statements: its pool is not held by them.
    const reconcile = await app
      .get(JobProducer)
      .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
    const reconciled = await finishedJob(app.queue(QueueName.Payouts), String(reconcile.id));
    expect(await reconciled.getState()).toBe('completed');

    // Each call is cut at its deadline: an unknown outcome, never a failure or a reversal.
    await waitUntil(
      async () => {
        const rows = await query<{ n: string }>(
          db,
          'SELECT count(*) AS n FROM payouts WHERE outcome_unknown_at IS NOT NULL AND lease_owner IS NULL',
        );
        return Number(rows[0].n) === payees.length;
      },
      { message: 'every hung call to be cut and recorded', timeoutMs: 30_000 },
    );
    const cut = await query<{ payout_id: string }>(
      db,
      "SELECT DISTINCT payout_id FROM payout_events WHERE detail LIKE '%no answer within the deadline%'",
    );
    expect(cut.map((row) => row.payout_id).sort()).toEqual([...payoutIds].sort());
    // (Those charged before hanging are paid by a retry's replay; none is failed or given back.)
    expect(
      await query(db, "SELECT status, last_error FROM payouts WHERE status = 'failed'"),
    ).toEqual([]);

    // A worker with a provider that answers settles them all: the charged ones as replays.
    await hanging.stop('SIGTERM');
    const healthy = worker(env);
    await healthy.waitReady();
    await query(db, "UPDATE payouts SET updated_at = now() - interval '1 hour'");
    await app.get(JobProducer).enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
    for (const id of payoutIds) await waitForStatus(db, id, 'paid', 30_000);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });
});
