import { AppProcess } from '../support/app-process';
import {
  bootApp,
  chargesFor,
  createPayees,
  moneyInvariantViolations,
  QueueName,
  TestApp,
  waitForStatus,
} from '../support/payouts-fixtures';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { TcpCut } from '../support/tcp-cut';
import { waitUntil } from '../support/wait';

jest.setTimeout(90_000);

/*
 * A real worker process from dist/ whose only way to PostgreSQL goes through a link the test
 * cuts: every connection reset, new ones refused. The provider has charged and is about to
 * answer "paid" when the link goes, so the finish statement cannot be written. When the link is
 * back, the payout must end paid once, on that one charge, with its ledger intact.
 */
describe('Payouts: PostgreSQL unreachable between the provider answer and the finish', () => {
  let redis: TestRedis;
  let api: TestApp | undefined;
  let link: TcpCut | undefined;
  let worker: AppProcess | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await link?.stop();
    await api?.close();
    await redis?.stop();
  });

  it('ends paid exactly once on the first charge, without a reversal', async () => {
    const db = await createTestDatabase();
    api = await bootApp('api', redis.url, db);
    const env = testEnv(redis.url, db, {
      QUEUE_PREFIX: api.config.redis.prefix,
      LOG_LEVEL: 'info',
      QUEUE_LOCK_DURATION: '2s',
      QUEUE_STALLED_INTERVAL: '1s',
      PROVIDER_TIMEOUT: '5s',
      PAYOUT_LEASE: '6s',
      // The provider answers 3 s after it charged: time to cut the link in between, even on a
      // loaded machine.
      PROVIDER_LATENCY: '3s',
      // Retries while the link is down fail fast (connection refused): leave room for them.
      JOB_ATTEMPTS: '20',
      JOB_BACKOFF_DELAY: '100',
    });
    link = await TcpCut.start(hostAndPort(env.DATABASE_URL));
    worker = new AppProcess('worker', { ...env, DATABASE_URL: link.route(env.DATABASE_URL) });
    await worker.waitReady();
    const [payee] = await createPayees(db, [{ earnings: [7_777] }]);

    const { payoutId } = (await api.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };
    await waitUntil(async () => (await chargesFor(db, payoutId))[0]?.reference, {
      message: 'the provider to record the charge (its answer still to come)',
    });
    await link.cut();

    // The answer arrives, the finish cannot be written: the job's attempt fails on the link.
    const queue = api.queue(QueueName.Payouts);
    const failedAttempt = await waitUntil(
      async () => {
        const job = await queue.getJob(payoutId);
        return job && job.attemptsMade >= 1 ? job : undefined;
      },
      { message: 'the attempt to fail while PostgreSQL is unreachable', timeoutMs: 20_000 },
    );
    expect(failedAttempt.stacktrace.join('\n')).toMatch(
      /ECONNREFUSED|ECONNRESET|Connection terminated/,
    );
    const [during] = await query<{ status: string; finished_at: Date | null }>(
      db,
      'SELECT status, finished_at FROM payouts WHERE id = $1',
      [payoutId],
    );
    expect(during).toEqual({ status: 'processing', finished_at: null });

    await link.restore();
    await waitForStatus(db, payoutId, 'paid', 60_000);

    const [payout] = await query<{ provider_reference: string; outcome_unknown_at: Date | null }>(
      db,
      'SELECT provider_reference, outcome_unknown_at FROM payouts WHERE id = $1',
      [payoutId],
    );
    // One charge: the retry's transfer, same key, was a replay of the first.
    const charges = await chargesFor(db, payoutId);
    expect(charges).toEqual([
      expect.objectContaining({ reference: payout.provider_reference, amount_minor: 7_777 }),
    ]);
    expect(charges[0].charge_count).toBeGreaterThanOrEqual(2);
    const events = await query<{ to_status: string }>(
      db,
      'SELECT to_status FROM payout_events WHERE payout_id = $1 ORDER BY id',
      [payoutId],
    );
    expect(events.filter((e) => e.to_status === 'paid')).toHaveLength(1);
    expect(events.filter((e) => e.to_status === 'failed')).toHaveLength(0);
    expect(
      await query(db, "SELECT * FROM ledger_entries WHERE payout_id = $1 AND kind = 'reversal'", [
        payoutId,
      ]),
    ).toEqual([]);
    expect(
      await query<{ dedupe_key: string }>(
        db,
        'SELECT dedupe_key FROM notifications WHERE payout_id = $1',
        [payoutId],
      ),
    ).toEqual([{ dedupe_key: `payout:${payoutId}:paid` }]);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });
});

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) || 5432 };
}
