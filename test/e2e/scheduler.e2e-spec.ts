import Queue from 'bull';
import Redis from 'ioredis';
import { tickJobId } from '../../src/scheduler/tick-jobs';
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
 * schedule + tick; a refused second attempt is counted in `duplicates`), and in Bull's own jobs
 * (one per tick, `tick:<schedule>:<ms>`).
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

/**
 * The runs once the newest has finished: ticks keep coming while the workers run, and the one
 * read in the middle of its run is still `running` (a run takes milliseconds: poll for it).
 */
async function settledRuns(databaseUrl: string): Promise<RunRow[]> {
  return waitUntil(
    async () => {
      const rows = await runs(databaseUrl);
      return rows.at(-1)?.status === 'running' ? undefined : rows;
    },
    { timeoutMs: 10_000, message: 'the newest run to finish' },
  );
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

  /** The tick jobs still waiting to run (delayed or waiting), by job ID. */
  async pendingTickJobs(): Promise<string[]> {
    const jobs = await Promise.all(this.queues.map((q) => q.getJobs(['delayed', 'waiting'])));
    return jobs
      .flat()
      .map((job) => String(job.id))
      .filter((id) => id.startsWith('tick:'));
  }

  close(): Promise<void[]> {
    return Promise.all(this.queues.map((q) => q.close()));
  }
}

/** No Bull repeatable (tick jobs replace them), and a pending tick job for each enabled schedule. */
async function expectTickJobsOnly(probe: BullProbe, schedules = DECLARED) {
  expect(await probe.repeatables()).toEqual([]);
  await waitUntil(
    async () => {
      const pending = await probe.pendingTickJobs();
      return schedules.every((name) => pending.some((id) => id.startsWith(`tick:${name}:`)));
    },
    { timeoutMs: 5_000, message: 'a pending tick job for each schedule' },
  );
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
    expect(rows.filter((r) => r.trigger === 'manual')).toEqual([]);
    expect(rows.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    // At most the tick that was running in the killed process ran a second attempt (same job).
    expect(rows.filter((r) => r.attempts > 1).length).toBeLessThanOrEqual(1);
    // The runs were spread over the instances (each tick went to whichever worker took it).
    expect(new Set(rows.map((r) => r.instance)).size).toBeGreaterThan(1);

    // Bull's side: each tick ran as the job named after it.
    for (const row of rows.filter((r) => r.tick >= from && r.tick <= to)) {
      expect(row.job_id).toBe(tickJobId(SCHEDULE, row.tick));
    }
    await expectTickJobsOnly(probe);
    console.log(
      `3 instances, 1 SIGTERM + 1 SIGKILL restart: ${(to - from) / 1000 + 1} consecutive ticks, ` +
        `${rows.length} runs in all, duplicates ${rows.reduce((s, r) => s + r.duplicates, 0)}, ` +
        `second attempts ${rows.filter((r) => r.attempts > 1).length}, ` +
        `instances used ${new Set(rows.map((r) => r.instance)).size}`,
    );
    await Promise.all([third, restartedFirst, restartedSecond].map((w) => w.stop('SIGTERM')));
  });

  it('after a cron change and a restart, only ticks of the new cron run (a tick job queued on the old one is skipped)', async () => {
    const { databaseUrl, env, probe } = await scenario({});
    const before = await startTickingWorker(env, databaseUrl, 'ticks on the old cron');
    await before.stop('SIGTERM');

    const everyTwo = '*/2 * * * * *';
    const after = track(
      new AppProcess('worker', { ...env, SCHEDULE_QUEUE_CLEANUP_CRON: everyTwo }),
    );
    await after.waitReady(60_000);
    const started = Date.now();
    await expectTickJobsOnly(probe);
    await waitUntil(async () => (await runsAfter(databaseUrl, started, 'schedule')).length >= 3, {
      timeoutMs: 30_000,
      message: 'ticks on the new cron',
    });
    await after.stop('SIGTERM');
    const fresh = (await runsAfter(databaseUrl, started)).filter((r) => r.tick > started);
    expect(fresh.every((r) => (r.tick / 1000) % 2 === 0)).toBe(true);
    expect((await runs(databaseUrl)).reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
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
    // The outage was not skipped, nor replayed tick by tick: the tick jobs queued before the stop
    // (a one-second schedule has up to two queued, for ticks due within 2 s) ran late, each once,
    // or, when none was left, the latest due tick was caught up once at start.
    const after = await runsAfter(databaseUrl, lastBefore);
    const outage = after.filter((r) => r.tick <= lastBefore + 3_000);
    const caughtUp = after.filter((r) => r.trigger === 'catch-up');
    const late = [...outage, ...caughtUp];
    expect(late.length).toBeGreaterThanOrEqual(1);
    expect(late.length).toBeLessThanOrEqual(2);
    for (const run of late) expect(run).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await runs(databaseUrl)).reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
  });

  /** Every schedule on a short cron, so each one's recovery is seen within seconds. */
  const FAST_SCHEDULES = {
    SCHEDULE_PAYOUT_CYCLE_CRON: '*/3 * * * * *',
    SCHEDULE_PAYOUT_RECONCILE_CRON: '*/2 * * * * *',
    SCHEDULE_ANALYTICS_DAILY_STATS_CRON: '*/4 * * * * *',
  };
  const PERIODS: Record<string, number> = {
    'payout-cycle': 3_000,
    'payout-reconcile': 2_000,
    'analytics-daily-stats': 4_000,
    'queue-cleanup': 1_000,
  };

  async function latestTicks(databaseUrl: string): Promise<Map<string, number>> {
    const rows = await query<{ schedule: string; tick: Date }>(
      databaseUrl,
      'SELECT schedule, max(tick_at) AS tick FROM schedule_runs GROUP BY schedule',
    );
    return new Map(rows.map((row) => [row.schedule, row.tick.getTime()]));
  }

  async function flushAll(): Promise<number> {
    const admin = new Redis(redis.url);
    try {
      const at = Date.now();
      await admin.flushall();
      return at;
    } finally {
      admin.disconnect();
    }
  }

  /**
   * After a FLUSHALL: each schedule runs a tick later than the flush within its period plus a
   * few seconds (the deadline), the one-second schedule runs every second once from before the
   * flush to well after it, and the workers are the same processes. Returns the recovery times.
   */
  async function expectRecoveredFromFlush(
    databaseUrl: string,
    workers: AppProcess[],
    flushedAt: number,
  ): Promise<Record<string, number>> {
    const lastBefore = (await runs(databaseUrl)).filter((r) => r.tick < flushedAt).at(-1)!.tick;
    const recovery: Record<string, number> = {};
    await Promise.all(
      Object.entries(PERIODS).map(async ([name, period]) => {
        await waitUntil(async () => ((await latestTicks(databaseUrl)).get(name) ?? 0) > flushedAt, {
          timeoutMs: period + 5_000,
          message: `a run of "${name}" after the FLUSHALL`,
        });
        const [first] = await query<{ started_at: Date }>(
          databaseUrl,
          `SELECT started_at FROM schedule_runs WHERE schedule = $1 AND tick_at > $2
            ORDER BY tick_at LIMIT 1`,
          [name, new Date(flushedAt)],
        );
        recovery[name] = first.started_at.getTime() - flushedAt;
      }),
    );
    const until = Math.floor(flushedAt / 1000) * 1000 + 5_000;
    await waitUntil(
      async () => {
        const window = (await runs(databaseUrl)).filter((r) => r.tick >= lastBefore);
        return window.some((r) => r.tick > until) && window.every((r) => r.status === 'succeeded');
      },
      { timeoutMs: 30_000, message: 'one-second ticks after the FLUSHALL' },
    );
    expectEverySecondOnce(await runs(databaseUrl), lastBefore, until);
    for (const worker of workers) expect(worker.running).toBe(true);
    return recovery;
  }

  it('FLUSHALL while two workers run: every schedule ticks again within its period plus a few seconds, each tick once, no restart', async () => {
    const { databaseUrl, env, probe } = await scenario(FAST_SCHEDULES);
    const workers = track(await startWorkers(2, env));
    // Every declared schedule has run (the redis-loss-check, every 10 s, may have run too).
    await waitUntil(
      async () => {
        const ticks = await latestTicks(databaseUrl);
        return DECLARED.every((name) => ticks.has(name));
      },
      {
        timeoutMs: 30_000,
        message: 'a run of every schedule',
      },
    );
    const flushedAt = await flushAll();
    const recovery = await expectRecoveredFromFlush(databaseUrl, workers, flushedAt);
    const all = await query<{ duplicates: number }>(
      databaseUrl,
      'SELECT duplicates FROM schedule_runs',
    );
    expect(all.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);
    await expectTickJobsOnly(probe);
    console.log(
      `FLUSHALL with 2 workers: no one-second tick lost; first run after the flush (ms): ` +
        JSON.stringify(recovery),
    );
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
  });

  it('a legacy instance starting and stopping among distributed workers, then a FLUSHALL: every tick once, no gap', async () => {
    const { databaseUrl, env } = await scenario(FAST_SCHEDULES);
    const workers = track(await startWorkers(2, env));
    await waitUntil(async () => (await runs(databaseUrl)).length >= 2, {
      timeoutMs: 30_000,
      message: 'distributed ticks',
    });
    const legacy = track(new AppProcess('worker', { ...env, USE_DISTRIBUTED_SCHEDULER: 'false' }));
    await legacy.waitReady(60_000);
    expect(modeLine(legacy)).toMatch(/^Scheduler mode: legacy/);
    let mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark)).length >= 3, {
      timeoutMs: 30_000,
      message: 'ticks while the legacy instance runs',
    });
    await legacy.stop('SIGTERM');
    mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark)).length >= 3, {
      timeoutMs: 30_000,
      message: 'ticks after the legacy instance stopped',
    });
    const rows = await settledRuns(databaseUrl);
    expectEverySecondOnce(rows, rows[0].tick, rows.at(-1)!.tick);
    // After it stopped, ticks arrive as jobs again.
    expect((await runsAfter(databaseUrl, mark)).every((r) => r.runner === 'queue')).toBe(true);

    const flushedAt = await flushAll();
    await expectRecoveredFromFlush(databaseUrl, workers, flushedAt);
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
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

  it('switching distributed -> legacy -> distributed, from a version with repeatables: no repeatable stays, no tick runs twice', async () => {
    const { databaseUrl, env, probe } = await scenario({});
    const legacyEnv = { ...env, USE_DISTRIBUTED_SCHEDULER: 'false' };
    // What an earlier version left in Redis: a Bull repeatable for a schedule.
    await probe.analytics.add(JOB, {}, { repeat: { every: 3_600_000 }, jobId: `${SCHEDULE}~0` });
    expect(await probe.repeatables()).toHaveLength(1);

    const distributed = track(new AppProcess('worker', env));
    await distributed.waitReady(60_000);
    await expectTickJobsOnly(probe);
    await waitUntil(async () => (await runs(databaseUrl)).length >= 2, {
      timeoutMs: 30_000,
      message: 'distributed ticks',
    });
    await distributed.stop('SIGTERM');

    const legacy = track(new AppProcess('worker', legacyEnv));
    await legacy.waitReady(60_000);
    const legacyFrom = Date.now();
    expect(modeLine(legacy)).toMatch(/^Scheduler mode: legacy/);
    let mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark, 'schedule')).length >= 2, {
      timeoutMs: 30_000,
      message: 'legacy ticks',
    });
    await legacy.stop('SIGTERM');

    const back = track(new AppProcess('worker', env));
    await back.waitReady(60_000);
    await expectTickJobsOnly(probe);
    mark = Date.now();
    await waitUntil(async () => (await runsAfter(databaseUrl, mark, 'schedule')).length >= 2, {
      timeoutMs: 30_000,
      message: 'distributed ticks again',
    });
    await back.stop('SIGTERM');

    const rows = await runs(databaseUrl);
    expect(new Set(rows.map((r) => r.runner))).toEqual(new Set(['queue', 'inline']));
    // Only a tick job queued before the legacy start was refused (its tick ran in-process).
    expect(rows.filter((r) => r.duplicates > 0 && r.tick > legacyFrom + 2_000)).toEqual([]);
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
