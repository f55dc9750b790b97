import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../../support/wait';
import { Scenario, ScenarioContext } from '../scenario';

/** The schedule judged tick by tick: queue cleanup, every second (cheap, so ticks are dense). */
const EVERY_SECOND_SCHEDULE = 'queue-cleanup';

interface TickRow {
  tick: number;
  status: string;
  trigger: string;
}

async function ticks(ctx: ScenarioContext): Promise<TickRow[]> {
  const rows = await ctx.cluster.sql<{ tick_at: Date; status: string; trigger: string }>(
    `select tick_at, status, trigger from schedule_runs where schedule = $1 order by tick_at`,
    [EVERY_SECOND_SCHEDULE],
  );
  return rows.map((r) => ({
    tick: new Date(r.tick_at).getTime(),
    status: r.status,
    trigger: r.trigger,
  }));
}

/** Second-aligned instants in [from, to]. */
function secondsBetween(from: number, to: number): number[] {
  const first = Math.ceil(from / 1000) * 1000;
  return Array.from(
    { length: Math.max(0, Math.floor((to - first) / 1000) + 1) },
    (_, i) => first + i * 1000,
  );
}

/**
 * The distributed scheduler (one queued job per tick) under restarts at scale: a one-second schedule
 * plus the payout cycle and the reconciler on short periods, while payouts flow. Workers are
 * restarted one at a time (SIGKILL and SIGTERM in turn), then all three are killed together
 * for a full outage. Each tick runs once (the common check reads `schedule_runs.duplicates`);
 * while at least one worker is up no tick is missed; after the full outage the scheduler
 * resumes and ticks passed while nothing ran are not replayed one by one.
 */
export const schedulerRestarts: Scenario = {
  name: 'scheduler-restarts',
  title:
    'the distributed scheduler through rolling SIGKILL/SIGTERM restarts and a full worker outage: each tick once, none missed while a worker is up',
  env: {
    USE_DISTRIBUTED_SCHEDULER: 'true',
    SCHEDULE_QUEUE_CLEANUP_ENABLED: 'true',
    SCHEDULE_QUEUE_CLEANUP_CRON: '* * * * * *',
    SCHEDULE_PAYOUT_CYCLE_ENABLED: 'true',
    SCHEDULE_PAYOUT_CYCLE_CRON: '*/15 * * * * *',
    SCHEDULE_PAYOUT_RECONCILE_ENABLED: 'true',
    SCHEDULE_PAYOUT_RECONCILE_CRON: '*/5 * * * * *',
  },
  async run(ctx) {
    const { cluster } = ctx;
    const startedAt = Date.now();
    await waitUntil(async () => (await ticks(ctx)).length >= 2, {
      timeoutMs: 30_000,
      message: 'the first one-second ticks',
    });

    // Rolling restarts for the first two thirds of the load, one worker at a time.
    const rollingUntil = startedAt + (ctx.size.loadMs * 2) / 3;
    let signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL';
    while (Date.now() < rollingUntil) {
      await sleep(ctx.size.faultEveryMs);
      const { index, worker } = ctx.randomWorker();
      const exit = await worker.stop(signal);
      ctx.expect(
        signal === 'SIGKILL' ? exit.signal === 'SIGKILL' : exit.code === 0,
        `${worker.name} did not stop as asked (${signal}): ${JSON.stringify(exit)}`,
      );
      await cluster.startWorker(index);
      ctx.faults += 1;
      signal = signal === 'SIGKILL' ? 'SIGTERM' : 'SIGKILL';
    }
    const rollingEnded = Date.now();

    // Full outage: every worker killed at once, none running for the outage.
    const outageStart = Date.now();
    await Promise.all(cluster.workers.map((worker) => worker.stop('SIGKILL')));
    ctx.faults += 1;
    await sleep(ctx.size.outageMs);
    // The outage ends when the first worker is back (ready to take jobs).
    let outageEnd = 0;
    await Promise.all(
      cluster.workers.map((_, index) =>
        cluster.startWorker(index).then(() => (outageEnd ||= Date.now())),
      ),
    );
    ctx.faultDone();
    await waitUntil(async () => (await ticks(ctx)).some((t) => t.tick > outageEnd), {
      timeoutMs: 60_000,
      message: 'ticks after the full outage',
    });
    ctx.recoveryMs = Date.now() - outageEnd;

    ctx.afterSettle = async () => {
      // A tick taken by a killed worker finishes once its lock lapses: wait for the window's.
      const window = secondsBetween((await ticks(ctx))[0].tick, rollingEnded - 1_000);
      const runOf = async () => new Map((await ticks(ctx)).map((t) => [t.tick, t]));
      await waitUntil(
        async () => {
          const runs = await runOf();
          return window.every((tick) => runs.get(tick)?.status === 'succeeded');
        },
        { timeoutMs: 60_000, message: 'every tick of the rolling window to finish' },
      ).catch(() => undefined);
      const runs = await runOf();
      const missed = window.filter((tick) => !runs.has(tick));
      const unfinished = window.filter(
        (tick) => runs.has(tick) && runs.get(tick)?.status !== 'succeeded',
      );
      ctx.expect(
        missed.length === 0,
        `${missed.length} of ${window.length} one-second ticks missed while workers restarted one at a time, e.g. ${missed
          .slice(0, 5)
          .map((t) => new Date(t).toISOString())
          .join(', ')}`,
      );
      ctx.expect(unfinished.length === 0, `${unfinished.length} ticks did not succeed`);
      const inOutage = secondsBetween(outageStart, outageEnd);
      const ranInOutage = inOutage.filter((tick) => runs.has(tick)).length;
      const after = [...runs.values()].filter((t) => t.tick > outageEnd);
      ctx.expect(after.length > 0, 'no tick ran after the full outage');
      // The ticks queued when the last worker died run when one is back: the latest
      // missed tick is never lost, even with no worker at all.
      ctx.expect(ranInOutage >= 1, 'no tick due during the full outage ran once workers were back');
      ctx.note(
        `one-second schedule: ${window.length} ticks during rolling restarts, ${missed.length} missed; ` +
          `no worker for ${Math.round((outageEnd - outageStart) / 100) / 10}s: ${ranInOutage} of the ` +
          `${inOutage.length} ticks due meanwhile ran late (those already queued; the rest are not replayed), ` +
          `${after.length} ticks after it`,
      );
    };
  },
};
