import { Readable } from 'node:stream';
import { CSV_COLUMNS } from '../../src/exports/export-writer.service';
import { ExportService } from '../../src/exports/export.service';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { AppProcess } from '../support/app-process';
import {
  appsOnTestRedis,
  chargesFor,
  createPayees,
  finishedJob,
  moneyInvariantViolations,
  QueueName,
  sameQueues,
  waitForStatus,
} from '../support/payouts-fixtures';
import {
  createTestDatabase,
  pgBouncerEnv,
  query,
  startTestPgBouncer,
  testEnv,
  TestPgBouncer,
  throughPgBouncer,
} from '../support/services';
import { waitUntil } from '../support/wait';

jest.setTimeout(90_000);

/*
 * The payout flows with DATABASE_URL pointing at a real PgBouncer in transaction pooling mode,
 * the way most production PostgreSQL is fronted: a server connection is lent for one
 * transaction (or one statement outside a transaction), then given to another client. Session
 * state (advisory locks, SET, prepared statements by name) does not survive between statements.
 * Migrations go through DATABASE_MIGRATION_URL, the direct connection. The bouncer keeps at most
 * POOL_SIZE server connections per database, far fewer than the apps' pools, so clients really
 * share them. Tests read and seed through the direct URL.
 */
const POOL_SIZE = 4;

interface PoolRow {
  database: string;
  pool_mode: string;
}
interface StatsRow {
  database: string;
  total_xact_count: string;
}

describe('Payouts through PgBouncer in transaction mode (real PgBouncer, PostgreSQL, Redis)', () => {
  const { boot } = appsOnTestRedis();
  let bouncer: TestPgBouncer;

  beforeAll(async () => {
    bouncer = await startTestPgBouncer({ poolSize: POOL_SIZE });
  });
  afterAll(async () => {
    await bouncer?.stop();
  });

  const viaBouncer = (db: string, overrides: Record<string, string> = {}) => ({
    ...pgBouncerEnv(db, bouncer.url),
    ...overrides,
  });

  /** PgBouncer's admin console (simple-protocol SHOW commands on the virtual `pgbouncer` database). */
  async function admin<T>(command: string): Promise<T[]> {
    const console = new URL(bouncer.url);
    console.pathname = '/pgbouncer';
    return query<T>(console.toString(), command);
  }

  const databaseName = (db: string) => new URL(db).pathname.slice(1);

  async function serverConnections(db: string): Promise<number> {
    const [row] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return row.n;
  }

  /**
   * The database sees no more than the bouncer's pool. A connection this test just closed
   * (query() opens one per call) can linger in pg_stat_activity for a moment after its client
   * ended, so this polls; an app pool that bypassed the bouncer would keep its connections for
   * their 30 s idle timeout and fail it.
   */
  async function expectAtMostPoolSize(db: string): Promise<void> {
    await waitUntil(async () => (await serverConnections(db)) <= POOL_SIZE, {
      timeoutMs: 5_000,
      message: `at most ${POOL_SIZE} server connections to the test database`,
    });
  }

  it('pays a cycle end to end with two workers sharing a few server connections', async () => {
    const db = await createTestDatabase();
    const w1 = await boot('worker', db, viaBouncer(db, { QUEUE_CONCURRENCY_PAYOUTS: '8' }));
    const w2 = await boot(
      'worker',
      db,
      viaBouncer(db, { QUEUE_CONCURRENCY_PAYOUTS: '8', ...sameQueues(w1) }),
    );
    expect(w1.config.database.url).toBe(throughPgBouncer(db, bouncer.url));
    expect(w1.config.database.migrationUrl).toBe(db);
    await createPayees(
      db,
      Array.from({ length: 80 }, (_, i) => ({ earnings: [1_000 + i] })),
    );

    const cycles = await Promise.all([
      w1.get(PayoutCycleService).runCycle(),
      w2.get(PayoutCycleService).runCycle(),
    ]);
    expect(cycles[0].payoutsCreated + cycles[1].payoutsCreated).toBe(80);
    await waitUntil(
      async () => (await query(db, "SELECT id FROM payouts WHERE status = 'paid'")).length === 80,
      { timeoutMs: 60_000, message: '80 paid payouts' },
    );

    const charges = await query<{ request_count: number; charge_count: number }>(
      db,
      'SELECT request_count, charge_count FROM simulated_provider_charges',
    );
    expect(charges).toHaveLength(80);
    expect(charges.every((c) => c.request_count === 1 && c.charge_count === 1)).toBe(true);
    expect(await moneyInvariantViolations(db)).toEqual([]);

    // The work went through the bouncer, in transaction mode, on at most POOL_SIZE server
    // connections (the two workers' pools alone hold more clients than that).
    const name = databaseName(db);
    const pools = await admin<PoolRow>('SHOW POOLS');
    expect(pools.filter((p) => p.database === name).map((p) => p.pool_mode)).toEqual([
      'transaction',
    ]);
    const stats = await admin<StatsRow>('SHOW STATS');
    const transactions = Number(stats.find((s) => s.database === name)?.total_xact_count ?? 0);
    expect(transactions).toBeGreaterThan(80 * 3);
    await expectAtMostPoolSize(db);
  });

  it('writes an export and streams it back through the bouncer', async () => {
    const db = await createTestDatabase();
    const worker = await boot('worker', db, viaBouncer(db));
    const api = await boot('api', db, viaBouncer(db, sameQueues(worker)));
    const [payee] = await createPayees(db, [{ earnings: [] }]);
    const [user] = await query<{ id: number }>(
      db,
      `INSERT INTO users (email, password_hash, role) VALUES ('owner@example.test', 'x', 'operator') RETURNING id`,
    );
    // 3,000 rows: three batches of the writer, several chunks of the download.
    await query(
      db,
      `INSERT INTO payouts (payee_id, amount_minor, currency, status, idempotency_key, created_at)
       SELECT $1, 100 + n, 'EUR', 'pending', 'seed:' || n,
              timestamptz '2026-01-01 00:00+00' + n * interval '1 minute'
       FROM generate_series(1, 3000) AS n`,
      [payee],
    );
    const owner = { id: Number(user.id), email: 'owner@example.test', role: 'operator' as const };

    const { exportId, jobId } = await api.get(ExportService).request({}, owner);
    const job = await finishedJob(worker.queue(QueueName.Exports), jobId, 60_000);
    expect(job.returnvalue).toMatchObject({ outcome: 'done', rowCount: 3_000 });

    const download = await api.get(ExportService).download(exportId, owner);
    const chunks: Buffer[] = [];
    for await (const chunk of download.stream as Readable) chunks.push(Buffer.from(chunk));
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const expected = await query<{ id: string }>(
      db,
      'SELECT id FROM payouts ORDER BY created_at, id',
    );
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(expected.map((r) => r.id));
    await expectAtMostPoolSize(db);
  });

  describe('a worker process killed mid-payout (real processes from dist/)', () => {
    const processes: AppProcess[] = [];
    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    });

    it('another worker finishes the payout with a single charge', async () => {
      const db = await createTestDatabase();
      const api = await boot('api', db, viaBouncer(db));
      const env = testEnv(api.config.redis.url, db, {
        ...viaBouncer(db),
        QUEUE_PREFIX: api.config.redis.prefix,
        LOG_LEVEL: 'info',
        // A killed worker's job is retaken ~2-3 s after its last lock renewal.
        QUEUE_LOCK_DURATION: '2s',
        QUEUE_STALLED_INTERVAL: '1s',
        // Its payout lease lapses 4 s after the claim; the provider call is cut at 3 s.
        PROVIDER_TIMEOUT: '3s',
        PAYOUT_LEASE: '4s',
      });
      const worker = (overrides: Record<string, string>) => {
        const child = new AppProcess('worker', { ...env, ...overrides });
        processes.push(child);
        return child;
      };
      const [payee] = await createPayees(db, [{ earnings: [12_345] }]);

      const doomed = worker({ PROVIDER_LATENCY: '30s' });
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

      const rescuer = worker({ PROVIDER_LATENCY: '50ms' });
      await rescuer.waitReady();
      await waitForStatus(db, payoutId, 'paid', 45_000);

      const [payout] = await query<{ provider_reference: string }>(
        db,
        'SELECT provider_reference FROM payouts WHERE id = $1',
        [payoutId],
      );
      const charges = await chargesFor(db, payoutId);
      expect(charges).toEqual([
        expect.objectContaining({ reference: payout.provider_reference, amount_minor: 12_345 }),
      ]);
      expect(await moneyInvariantViolations(db)).toEqual([]);
      expect(await rescuer.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    });
  });
});
