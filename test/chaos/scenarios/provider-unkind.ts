import { setTimeout as sleep } from 'node:timers/promises';
import { Scenario } from '../scenario';

/**
 * The provider as real ones are on a bad day: a rate limit answered 429 before the idempotency
 * check, responses lost after the charge, 500s after the charge, calls that hang until the
 * deadline; meanwhile workers are SIGKILLed and one is frozen past its lease. No payout may be
 * failed or given back whose money moved, and the amounts charged must equal the paid payouts
 * (the common invariants check both).
 */
export const providerUnkind: Scenario = {
  name: 'provider-unkind',
  title:
    'a provider that rate-limits, loses answers and hangs, while workers are killed and one freezes: one charge per paid payout, none refunded',
  env: {
    PROVIDER_TRANSIENT_FAILURE_RATE: '0.05',
    PROVIDER_LOST_RESPONSE_RATE: '0.05',
    PROVIDER_ERROR_AFTER_COMMIT_RATE: '0.05',
    PROVIDER_HANG_RATE: '0.03',
    PROVIDER_TIMEOUT: '2s',
    PAYOUT_LEASE: '4s',
  },
  async run(ctx) {
    // Half again the offered rate: bursts, retries and replays run into it, and a backlog can
    // still drain (at the offered rate itself, the full size never caught up).
    const rate = Math.ceil((1.5 * ctx.size.perRound * 1000) / ctx.size.roundMs);
    ctx.cluster.workerOverrides = { PROVIDER_RATE_LIMIT: String(rate) };
    for (let index = 0; index < ctx.cluster.workers.length; index += 1) {
      await ctx.cluster.workers[index].stop('SIGTERM');
      await ctx.cluster.startWorker(index);
    }
    ctx.note(`provider limited to ${rate} calls/s`);

    const freeze = (async () => {
      await sleep(ctx.size.loadMs / 3);
      await ctx.midBatch().catch(() => undefined);
      const frozen = ctx.cluster.workers[0];
      if (!frozen.running) return;
      frozen.signal('SIGSTOP');
      await sleep(6_000); // past its 4 s leases: its payouts are taken over meanwhile
      frozen.signal('SIGCONT');
      ctx.note('worker1 frozen for 6 s (leases of 4 s)');
    })();
    await ctx.repeatDuringLoad(ctx.size.faultEveryMs, async () => {
      const running = ctx.cluster.workers
        .map((worker, index) => ({ worker, index }))
        .filter(({ worker, index }) => worker.running && index > 0);
      const { worker, index } = running[Math.floor(Math.random() * running.length)];
      await worker.stop('SIGKILL');
      await ctx.cluster.startWorker(index);
    });
    await freeze;
    ctx.faultDone();

    ctx.afterSettle = async () => {
      const [row] = await ctx.cluster.sql<{
        unknown: number;
        taken_over: number;
        refused: number;
        looked_up: number;
      }>(
        `select
           (select count(*) from payouts where outcome_unknown_at is not null)::int as unknown,
           (select count(*) from payout_events where detail like '%taken over from%')::int as taken_over,
           (select count(*) from payout_events where detail like '%was refused%')::int as refused,
           (select count(*) from payout_events where detail like '%asking the provider%')::int as looked_up`,
      );
      ctx.note(
        `${ctx.faults} workers killed; ${row.unknown} payouts had money that may have moved, ` +
          `${row.taken_over} take-overs, ${row.refused} stale finishes refused, ${row.looked_up} reconciler lookups`,
      );
      ctx.expect(
        row.unknown > 0,
        'no payout saw an unknown outcome: the unkind provider did not bite',
      );
    };
  },
};
