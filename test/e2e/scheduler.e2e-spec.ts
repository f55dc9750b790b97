import Queue from 'bull';
import { repeatTickJobId } from '../../src/scheduler/repeatable-jobs';
import { AppProcess } from '../support/app-process';
import {
  ALL_SCHEDULES_ON,
  createTestDatabase,
  query,
  startTestRedis,
  testEnv,
  TestRedis,
} from '../support/services';
import { waitUntil } from '../support/wait';

/*
 * The scheduler in real worker processes (dist/worker.js; run `npx nest build` first) on a real
 * Redis and PostgreSQL. The one-second schedule is queue-cleanup with its cron overridden from
 * the environment (SCHEDULE_QUEUE_CLEANUP_CRON), as an operator would: no test-only code path.
 * Every run is observed in schedule_runs, which the scheduler's own wrapper writes (UNIQUE
 * schedule + tick; a refused second attempt is counted in `duplicates`), and in Bull's own jobs.
 */

const SCHEDULE = 'queue-cleanup';
const JOB = 'maintenance.queue-cleanup';
const EVERY_SECOND = '* * * * * *';
const DECLARED = ['payout-cycle', 'payout-reconcile', 'analytics-daily-stats', 'queue-cleanup'];
const QUEUES = ['payouts', 'analytics', 'notifications', 'exports'];

interface RunRow {
  tick: number;
  trigger: 'schedule' | 'catch-up' | 'manual';
  runner: 'queue' | 'inline';
  status: string;
  attempts: number;
  duplicates: number;
  job_id: string | null;
  instance: string;
}

async function runs(databaseUrl: string): Promise<RunRow[]> {
  const rows = await query<RunRow & { tick_at: Date }>(
    databaseUrl,
    `SELECT tick_at, trigger, runner, status, attempts, duplicates, job_id, instance
       FROM schedule_runs WHERE schedule = $1 ORDER BY tick_at`,
    [SCHEDULE],
  );
  return rows.map(({ tick_at, ...row }) => ({ ...row, tick: tick_at.getTime() }));
}

/** Runs whose tick is later than `after` (and, optionally, made by this trigger). */
async function runsAfter(databaseUrl: string, after: number, trigger?: string): Promise<RunRow[]> {
  return (await runs(databaseUrl)).filter(
    (run) => run.tick > after && (!trigger || run.trigger === trigger),
  );
}

async function startWorkers(count: number, env: Record<string, string>): Promise<AppProcess[]> {
  const workers = Array.from({ length: count }, () => new AppProcess('worker', env));
  await Promise.all(workers.map((worker) => worker.waitReady(60_000)));
  return workers;
}

function modeLine(worker: AppProcess): string | undefined {
  const line = worker.lines.find(
    (l) => typeof l.msg === 'string' && l.msg.startsWith('Scheduler mode:'),
  );
  return line?.msg;
}

/** Bull's view of the test's prefix: repeatables and scheduled ticks, per queue. */
class BullProbe {
  private readonly queues: Queue.Queue[];

  constructor(redisUrl: string, prefix: string) {
    this.queues = QUEUES.map((name) => new Queue(name, redisUrl, { prefix }));
  }

  get analytics(): Queue.Queue {
    return this.queues[1];
  }

  async repeatables(): Promise<Queue.JobInformation[]> {
    return (await Promise.all(this.queues.map((q) => q.getRepeatableJobs()))).flat();
  }

  /** Every job of a repeatable chain still waiting to run (delayed or waiting). */
  async pendingRepeatJobs(): Promise<Queue.Job[]> {
    const jobs = await Promise.all(this.queues.map((q) => q.getJobs(['delayed', 'waiting'])));
    return jobs.flat().filter((job) => String(job.id).startsWith('repeat:'));
  }

  close(): Promise<void[]> {
    return Promise.all(this.queues.map((q) => q.close()));
  }
}

/** Exactly one repeatable per declared schedule, and nothing else. */
async function expectOneRepeatablePerSchedule(probe: BullProbe, cleanupCron: string) {
  const repeatables = await probe.repeatables();
  expect(repeatables.map((r) => r.id?.split('~')[0]).sort()).toEqual([...DECLARED].sort());
  expect(repeatables.find((r) => r.id?.startsWith(`${SCHEDULE}~`))?.cron).toBe(cleanupCron);
}

/** Consecutive ticks one second apart, each recorded once, each finished successfully. */
function expectEverySecondOnce(rows: RunRow[], from: number, to: number) {
  const window = rows.filter((run) => run.tick >= from && run.tick <= to);
  const expected = Array.from({ length: (to - from) / 1000 + 1 }, (_, i) => from + i * 1000);
  expect(window.map((run) => run.tick)).toEqual(expected);
  expect(window.filter((run) => run.status !== 'succeeded')).toEqual([]);
}

describe('Scheduler in real worker processes (real Redis and PostgreSQL)', () => {
  let redis: TestRedis;
  const processes: AppProcess[] = [];
  const probes: BullProbe[] = [];

  function track<T extends AppProcess | AppProcess[]>(started: T): T {
    processes.push(...(Array.isArray(started) ? started : [started]));
    return started;
  }

  async function scenario(overrides: Record<string, string>) {
    const databaseUrl = await createTestDatabase();
    const env = testEnv(redis.url, databaseUrl, {
      ...ALL_SCHEDULES_ON,
      LOG_LEVEL: 'info',
      SCHEDULE_QUEUE_CLEANUP_CRON: EVERY_SECOND,
      ...overrides,
    });
    const probe = new BullProbe(redis.url, env.QUEUE_PREFIX);
    probes.push(probe);
    return { databaseUrl, env, probe };
  }

  /** A worker of this scenario, once it has run two ticks. */
  async function startTickingWorker(
    env: Record<string, string>,
    databaseUrl: string,
    message: string,
  ): Promise<AppProcess> {
    const worker = track(new AppProcess('worker', env));
    await worker.waitReady(60_000);
    await waitUntil(async () => (await runs(databaseUrl)).length >= 2, {
      timeoutMs: 30_000,
      message,
    });
    return worker;
  }

  beforeAll(async () => {
    redis = await startTestRedis();
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await Promise.all(probes.map((p) => p.close()));
    await redis?.stop();
  });

  it('three instances: each one-second tick yields exactly one job, run once, through SIGTERM and SIGKILL restarts', async () => {
    // A tick running in the killed process is picked up again once its lock lapses: keep that short.
    const { databaseUrl, env, probe } = await scenario({
      QUEUE_LOCK_DURATION: '5s',
      QUEUE_STALLED_INTERVAL: '2s',
    });
    const workers = track(await startWorkers(3, env));
    for (const worker of workers) expect(modeLine(worker)).toMatch(/^Scheduler mode: distributed/);
    await waitUntil(async () => (await runs(databaseUrl)).length >= 4, {
      timeoutMs: 30_000,
      message: 'the first ticks',
    });

    // Graceful restart of one instance.
    const [first, second, third] = workers;
    await first.stop('SIGTERM');
    const restartedFirst = track(new AppProcess('worker', env));
    await restartedFirst.waitReady(60_000);
    let mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark)).length >= 3, {
      timeoutMs: 30_000,
      message: 'ticks after the SIGTERM restart',
    });

    // Hard kill of another (its active job, if any, stalls and is picked up again by Bull).
    await second.stop('SIGKILL');
    const restartedSecond = track(new AppProcess('worker', env));
    await restartedSecond.waitReady(60_000);
    mark = Date.now();
    await waitUntil(
      async () =>
        (await runsAfter(databaseUrl, mark)).length >= 3 && (await runs(databaseUrl)).length >= 14,
      { timeoutMs: 30_000, message: 'ticks after the SIGKILL restart' },
    );

    // The window to judge: from the first tick to a tick that is surely due by now. Ticks in
    // flight at the kill may take Bull's stall recovery (lock expiry) to finish: wait for them.
    const from = (await runs(databaseUrl))[0].tick;
    const to = Math.floor(Date.now() / 1000) * 1000 - 1000;
    expect((to - from) / 1000 + 1).toBeGreaterThanOrEqual(12);
    await waitUntil(
      async () => {
        const window = (await runs(databaseUrl)).filter((r) => r.tick >= from && r.tick <= to);
        return (
          window.length === (to - from) / 1000 + 1 && window.every((r) => r.status === 'succeeded')
        );
      },
      { timeoutMs: 30_000, message: 'every tick of the window to have one finished run' },
    );
    const rows = await runs(databaseUrl);
    expectEverySecondOnce(rows, from, to);
    expect(rows.filter((r) => r.trigger !== 'schedule')).toEqual([]);
    expect(rows.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    // At most the tick that was running in the killed process ran a second attempt (same job).
    expect(rows.filter((r) => r.attempts > 1).length).toBeLessThanOrEqual(1);
    // The runs were spread over the instances (each tick went to whichever worker took it).
    expect(new Set(rows.map((r) => r.instance)).size).toBeGreaterThan(1);

    // Bull's side: one job per tick, named after that tick, and the run records name that job.
    const jobs = (await probe.analytics.getJobs(['completed'])).filter((j) => j.name === JOB);
    const jobsPerTick = new Map<number, string[]>();
    for (const job of jobs) {
      const tick = (job.opts as { prevMillis?: number }).prevMillis ?? -1;
      jobsPerTick.set(tick, [...(jobsPerTick.get(tick) ?? []), String(job.id)]);
    }
    for (const row of rows.filter((r) => r.tick >= from && r.tick <= to)) {
      expect({ tick: row.tick, jobs: jobsPerTick.get(row.tick) }).toEqual({
        tick: row.tick,
        jobs: [row.job_id],
      });
    }

    await expectOneRepeatablePerSchedule(probe, EVERY_SECOND);
    console.log(
      `3 instances, 1 SIGTERM + 1 SIGKILL restart: ${(to - from) / 1000 + 1} consecutive ticks, ` +
        `${rows.length} runs in all, duplicates ${rows.reduce((s, r) => s + r.duplicates, 0)}, ` +
        `second attempts ${rows.filter((r) => r.attempts > 1).length}, ` +
        `instances used ${new Set(rows.map((r) => r.instance)).size}`,
    );
    await Promise.all([third, restartedFirst, restartedSecond].map((w) => w.stop('SIGTERM')));
  });

  it('after a cron change and a restart, only the new repeatable (and its ticks) remain', async () => {
    const { databaseUrl, env, probe } = await scenario({
      SCHEDULE_QUEUE_CLEANUP_CRON: '*/2 * * * * *',
    });
    const before = await startTickingWorker(env, databaseUrl, 'ticks on the old cron');
    expect((await runs(databaseUrl)).every((r) => (r.tick / 1000) % 2 === 0)).toBe(true);
    await before.stop('SIGTERM');

    const after = track(
      new AppProcess('worker', { ...env, SCHEDULE_QUEUE_CLEANUP_CRON: EVERY_SECOND }),
    );
    await after.waitReady(60_000);
    expect(modeLine(after)).toMatch(/1 stale removed/);
    await expectOneRepeatablePerSchedule(probe, EVERY_SECOND);
    // The old chain's next job went with its repeatable: whatever is pending is on the new cron.
    for (const job of await probe.pendingRepeatJobs()) {
      if (job.name === JOB) expect(job.opts.repeat).toMatchObject({ cron: EVERY_SECOND });
    }
    const started = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, started, 'schedule')).length >= 3, {
      timeoutMs: 30_000,
      message: 'ticks on the new cron',
    });
    const fresh = await runsAfter(databaseUrl, started, 'schedule');
    expect(fresh.some((r) => (r.tick / 1000) % 2 === 1)).toBe(true);
    expect((await runs(databaseUrl)).reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    await after.stop('SIGTERM');
  });

  it('a tick missed while every instance was down runs once when one comes back', async () => {
    const { databaseUrl, env } = await scenario({});
    const worker = await startTickingWorker(env, databaseUrl, 'ticks before the outage');
    await worker.stop('SIGTERM');
    const lastBefore = (await runs(databaseUrl)).at(-1)?.tick ?? 0;
    // Let at least three ticks pass with nothing running (the condition is the clock itself).
    await waitUntil(() => Date.now() > lastBefore + 3_500, {
      timeoutMs: 10_000,
      message: 'an outage',
    });

    const back = track(new AppProcess('worker', env));
    await back.waitReady(60_000);
    await waitUntil(async () => (await runsAfter(databaseUrl, lastBefore)).length >= 3, {
      timeoutMs: 30_000,
      message: 'ticks after the outage',
    });
    await back.stop('SIGTERM');
    // The repeatable survived in Redis with its next tick's job: Bull ran that tick, late, once
    // (the catch-up); the ticks after it that passed with nothing running were not run, and no
    // extra catch-up job was needed or added.
    const after = await runsAfter(databaseUrl, lastBefore);
    expect(after[0]).toMatchObject({
      tick: lastBefore + 1000,
      trigger: 'schedule',
      status: 'succeeded',
      attempts: 1,
    });
    expect(after[1].tick).toBeGreaterThan(lastBefore + 3_000);
    expect(after.filter((r) => r.trigger === 'catch-up')).toEqual([]);
    expect((await runs(databaseUrl)).reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
  });

  /** Short enough for a quick test, long enough that the repair comes before the lock lapses. */
  const CUT_CHAIN_LOCKS = { QUEUE_LOCK_DURATION: '10s', QUEUE_STALLED_INTERVAL: '5s' };

  /**
   * Leaves Redis as a worker SIGKILLed between taking the one-second schedule's pending tick and
   * scheduling the next would (Bull does the two in separate round trips): that tick's job taken
   * (active, no lock) and no job for any later tick. Returns the taken tick.
   */
  async function cutChain(probe: BullProbe, prefix: string): Promise<number> {
    const entry = (await probe.analytics.getRepeatableJobs()).find((r) => r.name === JOB)!;
    const takenId = repeatTickJobId(
      { name: entry.name, id: entry.id ?? null, key: entry.key },
      entry.next,
    );
    const base = `${prefix}:analytics`;
    const [[, removedFromDelayed], [, removedFromWait]] = (await probe.analytics.client
      .multi()
      .zrem(`${base}:delayed`, takenId)
      .lrem(`${base}:wait`, 0, takenId)
      .lpush(`${base}:active`, takenId)
      .exec()) as Array<[Error | null, number]>;
    // Found where Bull keeps a pending tick: also checks repeatTickJobId against Bull's own IDs.
    expect(removedFromDelayed + removedFromWait).toBe(1);
    return entry.next;
  }

  /** Every second from the taken tick on runs once: the taken one rerun, the skipped ones caught up. */
  async function expectNoTickLost(databaseUrl: string, taken: number, worker: AppProcess) {
    const until = taken + 8_000;
    await waitUntil(
      async () => {
        const rows = await runs(databaseUrl);
        const window = rows.filter((r) => r.tick >= taken && r.tick <= until);
        return (
          rows.some((r) => r.tick > until) &&
          window.some((r) => r.tick === taken) &&
          window.every((r) => r.status === 'succeeded')
        );
      },
      { timeoutMs: 40_000, message: `ticks after the cut to run\n${worker.tail()}` },
    );
    const rows = await runs(databaseUrl);
    expectEverySecondOnce(rows, taken, until);
    expect(rows.filter((r) => r.trigger === 'catch-up').length).toBeGreaterThan(0);
    expect(rows.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    expect(worker.lines.some((l) => /had no job after its tick/.test(String(l.msg)))).toBe(true);
  }

  it('a chain cut by a worker killed between taking a tick and scheduling the next, found at the next start: no tick lost', async () => {
    const { databaseUrl, env, probe } = await scenario(CUT_CHAIN_LOCKS);
    const worker = await startTickingWorker(env, databaseUrl, 'ticks before the cut');
    await worker.stop('SIGTERM');
    const taken = await cutChain(probe, env.QUEUE_PREFIX);
    await waitUntil(() => Date.now() > taken + 3_500, {
      timeoutMs: 10_000,
      message: 'ticks to pass after the cut',
    });
    const back = track(new AppProcess('worker', env));
    await back.waitReady(60_000);
    expect(modeLine(back)).toMatch(/1 restarted/);
    await expectNoTickLost(databaseUrl, taken, back);
    await back.stop('SIGTERM');
  });

  it('a chain cut while a worker runs is found by that worker within seconds: no tick lost', async () => {
    const { databaseUrl, env, probe } = await scenario(CUT_CHAIN_LOCKS);
    const worker = await startTickingWorker(env, databaseUrl, 'ticks before the cut');
    const taken = await cutChain(probe, env.QUEUE_PREFIX);
    await expectNoTickLost(databaseUrl, taken, worker);
    await worker.stop('SIGTERM');
  });

  it('legacy mode: two instances run the same task code in-process, each tick once (Redis lock per tick)', async () => {
    const { databaseUrl, env, probe } = await scenario({
      USE_DISTRIBUTED_SCHEDULER: 'false',
      LOG_LEVEL: 'debug',
      COMPLETED_JOB_RETENTION: '2',
    });
    // Five finished jobs in a queue: the cleanup task (run in-process) must trim them to two.
    const exportsQueue = new Queue('exports', redis.url, { prefix: env.QUEUE_PREFIX });
    try {
      for (let i = 0; i < 5; i += 1)
        await exportsQueue.add('seed', { i }, { removeOnComplete: false });
      void exportsQueue.process('seed', async () => 'done');
      await waitUntil(async () => (await exportsQueue.getCompletedCount()) === 5, {
        message: 'the seed jobs to complete',
      });
    } finally {
      await exportsQueue.close();
    }

    const workers = track(await startWorkers(2, env));
    const bothReady = Date.now();
    for (const worker of workers) expect(modeLine(worker)).toMatch(/^Scheduler mode: legacy/);
    await waitUntil(async () => (await runsAfter(databaseUrl, bothReady, 'schedule')).length >= 6, {
      timeoutMs: 30_000,
      message: 'legacy ticks',
    });
    const stopping = Date.now();
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));

    const rows = (await runs(databaseUrl)).filter((r) => r.trigger === 'schedule');
    expectEverySecondOnce(rows, rows[0].tick, rows.at(-1)?.tick ?? 0);
    expect(rows.every((r) => r.runner === 'inline' && r.job_id === null)).toBe(true);
    expect(rows.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    // Both instances fired every tick while both ran: for each, the one that lost the lock said so.
    const refusals = workers.flatMap((w) =>
      w.lines
        .map((l) => /^Tick (\S+) of "queue-cleanup" already claimed by/.exec(String(l.msg))?.[1])
        .filter((tick): tick is string => Boolean(tick))
        .map((tick) => Date.parse(tick)),
    );
    const whileBothRan = rows.filter((r) => r.tick > bothReady && r.tick < stopping - 1000);
    expect(whileBothRan.length).toBeGreaterThanOrEqual(4);
    for (const row of whileBothRan) expect(refusals).toContain(row.tick);
    // The same task code ran: the queue-cleanup handler trimmed the completed jobs to two.
    expect(await probe.analytics.getRepeatableJobs()).toEqual([]);
    const exportsProbe = new Queue('exports', redis.url, { prefix: env.QUEUE_PREFIX });
    try {
      expect(await exportsProbe.getCompletedCount()).toBe(2);
    } finally {
      await exportsProbe.close();
    }
  });

  it('switching distributed -> legacy -> distributed leaves no stray repeatable and runs no tick twice', async () => {
    const { databaseUrl, env, probe } = await scenario({});
    const legacyEnv = { ...env, USE_DISTRIBUTED_SCHEDULER: 'false' };

    const distributed = track(new AppProcess('worker', env));
    await distributed.waitReady(60_000);
    await expectOneRepeatablePerSchedule(probe, EVERY_SECOND);
    await waitUntil(async () => (await runs(databaseUrl)).length >= 2, {
      timeoutMs: 30_000,
      message: 'distributed ticks',
    });
    await distributed.stop('SIGTERM');

    const legacy = track(new AppProcess('worker', legacyEnv));
    await legacy.waitReady(60_000);
    expect(modeLine(legacy)).toMatch(/^Scheduler mode: legacy .*4 repeatable job\(s\) removed/);
    expect(await probe.repeatables()).toEqual([]);
    expect(await probe.pendingRepeatJobs()).toEqual([]);
    let mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark, 'schedule')).length >= 2, {
      timeoutMs: 30_000,
      message: 'legacy ticks',
    });
    await legacy.stop('SIGTERM');

    const back = track(new AppProcess('worker', env));
    await back.waitReady(60_000);
    await expectOneRepeatablePerSchedule(probe, EVERY_SECOND);
    mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark, 'schedule')).length >= 2, {
      timeoutMs: 30_000,
      message: 'distributed ticks again',
    });
    await back.stop('SIGTERM');

    const rows = await runs(databaseUrl);
    expect(rows.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    expect(new Set(rows.map((r) => r.runner))).toEqual(new Set(['queue', 'inline']));
    // Each switch missed a tick or more while no scheduler ran; each start caught up at most once.
    const catchUps = rows.filter((r) => r.trigger === 'catch-up');
    expect(catchUps.length).toBeLessThanOrEqual(2);
    expect(catchUps.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it('refuses to start with a bad cron, naming the variable', async () => {
    const { env } = await scenario({ SCHEDULE_PAYOUT_CYCLE_CRON: '61 * * * *' });
    const worker = track(new AppProcess('worker', env));
    const exit = await worker.waitExit();
    expect(exit.code).not.toBe(0);
    expect(worker.output.join('\n')).toContain(
      'SCHEDULE_PAYOUT_CYCLE_CRON: must be a valid cron expression',
    );
  });
});
