import { INestApplicationContext, LoggerService } from '@nestjs/common';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { Queue } from 'bull';
import { AppModule } from '../../src/app.module';
import { AppConfig } from '../../src/config';
import { JobName, JobProducer, QueueName } from '../../src/queue';
import { query, startTestRedis, testConfig, testEnv, TestRedis } from './services';
import { finishedJob, waitUntil } from './wait';

const SILENT: LoggerService = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

export interface TestApp {
  app: INestApplicationContext;
  config: AppConfig;
  get<T>(token: new (...args: never[]) => T): T;
  queue(name: QueueName): Queue;
  close(): Promise<void>;
}

/**
 * The real application (AppModule.forRole) in this process, without HTTP: `api` produces jobs
 * only, `worker` also processes them. Each instance has its own pools, like a separate process.
 */
export async function bootApp(
  role: 'api' | 'worker',
  redisUrl: string,
  databaseUrl: string,
  overrides: Record<string, string> = {},
  configure: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) => builder,
): Promise<TestApp> {
  const config = testConfig(
    testEnv(redisUrl, databaseUrl, {
      APP_ROLE: role,
      LOG_LEVEL: 'silent',
      PROVIDER_LATENCY: '0',
      ...overrides,
    }),
  );
  const moduleRef = await configure(
    Test.createTestingModule({ imports: [AppModule.forRole(config)] }).setLogger(SILENT),
  ).compile();
  try {
    await moduleRef.init();
  } catch (error) {
    await moduleRef.close();
    throw error;
  }
  const producer = moduleRef.get(JobProducer);
  return {
    app: moduleRef,
    config,
    get: (token) => moduleRef.get(token, { strict: false }),
    queue: (name) => producer.queue(name),
    close: () => moduleRef.close(),
  };
}

/**
 * The setup the payouts test files share: one throwaway Redis for the file, and apps booted on
 * it that are closed after each test (and at the end). Call it at the top of a describe block
 * (it registers the hooks there); `boot(role, databaseUrl, ...)` in a test.
 */
export function appsOnTestRedis() {
  const open: TestApp[] = [];
  let redis: TestRedis | undefined;
  const closeAll = async (): Promise<void> => {
    await Promise.all(open.splice(0).map((app) => app.close()));
  };

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(closeAll);
  afterAll(async () => {
    await closeAll();
    await redis?.stop();
  });

  return {
    async boot(
      role: 'api' | 'worker',
      databaseUrl: string,
      overrides: Record<string, string> = {},
      configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder,
    ): Promise<TestApp> {
      if (!redis) throw new Error('boot() runs in a test, once beforeAll has started Redis');
      const app = await bootApp(role, redis.url, databaseUrl, overrides, configure);
      open.push(app);
      return app;
    },
  };
}

/** Shares the QUEUE_PREFIX of `app`, so a second instance works on the same queues. */
export function sameQueues(app: TestApp): Record<string, string> {
  return { QUEUE_PREFIX: app.config.redis.prefix };
}

export interface PayeeSpec {
  currency?: string;
  minimumMinor?: number;
  earnings: number[];
  active?: boolean;
}

/** Inserts payees with their earnings (one connection, two statements); returns their IDs in order. */
export async function createPayees(databaseUrl: string, payees: PayeeSpec[]): Promise<number[]> {
  const tag = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const rows = await query<{ id: number }>(
    databaseUrl,
    `INSERT INTO payees (name, email, currency, minimum_payout_minor, active)
     SELECT 'Payee ' || n, 'payee' || n || '.' || $1 || '@example.test', currency, minimum, active
     FROM unnest($2::text[], $3::bigint[], $4::boolean[]) WITH ORDINALITY AS p(currency, minimum, active, n)
     ORDER BY n
     RETURNING id`,
    [
      tag,
      payees.map((p) => p.currency ?? 'EUR'),
      payees.map((p) => p.minimumMinor ?? 1_000),
      payees.map((p) => p.active ?? true),
    ],
  );
  const ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
  const entries = payees.flatMap((payee, i) =>
    payee.earnings.map((amount) => ({ id: ids[i], amount, currency: payee.currency ?? 'EUR' })),
  );
  await query(
    databaseUrl,
    `INSERT INTO ledger_entries (payee_id, kind, amount_minor, currency)
     SELECT id, 'earning', amount, currency FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS e(id, amount, currency)`,
    [entries.map((e) => e.id), entries.map((e) => e.amount), entries.map((e) => e.currency)],
  );
  return ids;
}

/** Each amount as an earning of each payee: one connection, one statement, however many payees. */
export async function addEarnings(
  databaseUrl: string,
  payeeIds: number | number[],
  amounts: number[],
  currency = 'EUR',
): Promise<void> {
  if (amounts.length === 0) return;
  await query(
    databaseUrl,
    `INSERT INTO ledger_entries (payee_id, kind, amount_minor, currency)
     SELECT payee, 'earning', amount, $3
     FROM unnest($1::bigint[]) AS payee CROSS JOIN unnest($2::bigint[]) AS amount`,
    [Array.isArray(payeeIds) ? payeeIds : [payeeIds], amounts, currency],
  );
}

export async function payoutStatus(databaseUrl: string, id: string): Promise<string | undefined> {
  const [row] = await query<{ status: string }>(
    databaseUrl,
    'SELECT status FROM payouts WHERE id = $1',
    [id],
  );
  return row?.status;
}

export async function waitForStatus(
  databaseUrl: string,
  id: string,
  status: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitUntil(async () => (await payoutStatus(databaseUrl, id)) === status, {
    timeoutMs,
    message: `payout ${id} to be ${status}`,
  });
}

export interface Charge {
  idempotency_key: string;
  reference: string | null;
  request_count: number;
  charge_count: number;
  amount_minor: number;
}

export async function chargesFor(databaseUrl: string, payoutId: string): Promise<Charge[]> {
  return query<Charge>(
    databaseUrl,
    'SELECT * FROM simulated_provider_charges WHERE idempotency_key = $1',
    [payoutId],
  );
}

/**
 * Every money invariant the payouts business promises, as a list of violations (empty = fine):
 *   - a payee's balance is earnings - debits + reversals, and never negative;
 *   - each payout has exactly one debit of its amount; failed and cancelled ones exactly one
 *     reversal of it, the others none;
 *   (a balance paid twice would break the first rule: the payouts would exceed the earnings);
 *   - a paid payout was charged once, with its reference; nothing else was charged.
 */
export async function moneyInvariantViolations(databaseUrl: string): Promise<string[]> {
  const problems = await query<{ problem: string }>(
    databaseUrl,
    `
    SELECT 'payee ' || payee_id || ' has a negative balance ' || sum(amount_minor) AS problem
    FROM ledger_entries GROUP BY payee_id HAVING sum(amount_minor) < 0
    UNION ALL
    SELECT 'payee ' || p.id || ': balance ' || coalesce(l.balance, 0) || ' <> earnings ' ||
           coalesce(l.earned, 0) || ' - paid/open payouts ' || coalesce(o.amount, 0)
    FROM payees p
    LEFT JOIN (SELECT payee_id, sum(amount_minor) AS balance,
                      sum(amount_minor) FILTER (WHERE kind = 'earning') AS earned
               FROM ledger_entries GROUP BY payee_id) l ON l.payee_id = p.id
    LEFT JOIN (SELECT payee_id, sum(amount_minor) AS amount FROM payouts
               WHERE status IN ('pending', 'processing', 'paid') GROUP BY payee_id) o ON o.payee_id = p.id
    WHERE coalesce(l.balance, 0) <> coalesce(l.earned, 0) - coalesce(o.amount, 0)
    UNION ALL
    SELECT 'payout ' || p.id || ' (' || p.status || ') has debits ' ||
           coalesce(string_agg(l.amount_minor::text, ',') FILTER (WHERE l.kind = 'payout'), 'none') ||
           ' and reversals ' ||
           coalesce(string_agg(l.amount_minor::text, ',') FILTER (WHERE l.kind = 'reversal'), 'none')
    FROM payouts p LEFT JOIN ledger_entries l ON l.payout_id = p.id
    GROUP BY p.id
    HAVING count(*) FILTER (WHERE l.kind = 'payout' AND l.amount_minor = -p.amount_minor) <> 1
        OR count(*) FILTER (WHERE l.kind = 'payout') <> 1
        OR count(*) FILTER (WHERE l.kind = 'reversal') <>
           CASE WHEN p.status IN ('failed', 'cancelled') THEN 1 ELSE 0 END
        OR count(*) FILTER (WHERE l.kind = 'reversal' AND l.amount_minor <> p.amount_minor) > 0
    UNION ALL
    SELECT 'payout ' || p.id || ' is paid with ' || coalesce(p.provider_reference, 'no reference') ||
           ' but the provider charged ' || coalesce(c.reference, 'nothing')
    FROM payouts p LEFT JOIN simulated_provider_charges c ON c.idempotency_key = p.id::text
    WHERE p.status = 'paid' AND (c.reference IS NULL OR c.reference <> p.provider_reference
                                 OR c.amount_minor <> p.amount_minor)
    UNION ALL
    SELECT 'charge ' || c.idempotency_key || ' belongs to a payout that is ' || coalesce(p.status, 'missing')
    FROM simulated_provider_charges c LEFT JOIN payouts p ON p.id::text = c.idempotency_key
    WHERE c.reference IS NOT NULL AND (p.status IS NULL OR p.status NOT IN ('paid', 'processing'))
    `,
  );
  return problems.map((row) => row.problem);
}

export { finishedJob, JobName, JobProducer, QueueName };
