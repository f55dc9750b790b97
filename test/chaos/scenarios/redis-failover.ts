import { setTimeout as sleep } from 'node:timers/promises';
import { Scenario } from '../scenario';
import {
  burstUntilQueued,
  checkRecovery,
  countByQueue,
  lossSummary,
  expectSameProcesses,
  missingJobs,
  payoutsWithoutJob,
  probeUntilServing,
  processPids,
  queuedJobs,
  tally,
  waitForSweep,
} from './redis-loss';

/**
 * Redis behind Sentinel (a primary, a replica on another host, three sentinels) and the primary
 * SIGKILLed mid-batch: the sentinels promote the replica and every process carries on through
 * them, none restarted. Replication is asynchronous, so the last writes before the kill may be
 * missing on the new primary; what the loss check finds again from PostgreSQL is counted.
 */
export const redisFailover: Scenario = {
  name: 'redis-failover',
  title:
    'Sentinel failover mid-batch: the replica promoted, no process restarted, 503 (never 500) meanwhile, lost jobs found again',
  sentinel: true,
  // The reconciler (every 5 min) finds lost payouts too, but only at its next tick, anywhere in
  // or after the settle: off, so what recovers them is the Redis loss check, every run alike.
  env: { SCHEDULE_PAYOUT_RECONCILE_ENABLED: 'false' },
  async run(ctx) {
    const { cluster } = ctx;
    const pids = processPids(cluster);
    await sleep(ctx.size.loadMs / 3);
    await ctx.midBatch();
    const waiting = await burstUntilQueued(ctx);
    const queued = await queuedJobs(cluster);
    const old = cluster.redis;
    const killedAt = Date.now();
    await old.stop('SIGKILL');
    ctx.faults += 1;
    await ctx.markRedisDataLoss();
    let promotedMs: number | undefined;
    const promotion = cluster.followPrimary(old).then((primary) => {
      promotedMs = Date.now() - killedAt;
      return primary;
    });
    // Read as soon as the new primary is known, before the loss check had much time to run.
    const lostCheck = promotion.then(async () => ({
      lost: await missingJobs(cluster, queued),
      orphans: await payoutsWithoutJob(cluster),
    }));
    const outage = await probeUntilServing(ctx, killedAt, async () => promotedMs !== undefined);
    const { lost, orphans } = await lostCheck;
    const sweptMs = await waitForSweep(ctx, killedAt);
    ctx.faultDone();
    ctx.recoveryMs = outage.downMs;
    expectSameProcesses(ctx, pids, 'during the failover');
    const answers = tally(outage.answers);
    ctx.note(
      `primary killed; replica promoted after ${((promotedMs ?? 0) / 1000).toFixed(1)} s; ` +
        `both APIs served the session again after ${(outage.downMs / 1000).toFixed(1)} s; answers meanwhile: ${answers}`,
    );
    ctx.expect((outage.answers['503'] ?? 0) > 0, `no 503 during the failover (${answers})`);
    ctx.expect(
      Object.keys(outage.answers).every((status) => status === '503' || status === '200'),
      `answers other than 503 during the failover: ${answers}`,
    );
    ctx.note(
      `a burst of payouts, ${waiting} of their jobs waiting; queued before the kill: ${countByQueue(queued)}; missing on the new primary: ${countByQueue(lost)}; ` +
        `${orphans.length} payouts pending or processing without a job there (some only until their enqueue, held up by the failover, went through)`,
    );

    ctx.afterSettle = async () => {
      const recovery = await checkRecovery(
        ctx,
        lost,
        ctx.redisDataLoss?.at ?? new Date(),
        killedAt,
      );
      expectSameProcesses(ctx, pids, 'after the settle');
      ctx.summary =
        `redis={promoted=${((promotedMs ?? 0) / 1000).toFixed(1)}s down=${(outage.downMs / 1000).toFixed(1)}s ` +
        `answers=${answers} ${lossSummary({ lost, orphans: orphans.length, sweptMs, recovery })}}`;
    };
  },
};
