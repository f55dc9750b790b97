import { setTimeout as sleep } from 'node:timers/promises';
import { Scenario } from '../scenario';
import {
  burstUntilQueued,
  checkRecovery,
  countByQueue,
  lossSummary,
  expectSameProcesses,
  loginAgain,
  missingJobs,
  payoutsWithoutJob,
  probeUntilServing,
  processPids,
  queuedJobs,
  tally,
  waitForSweep,
  total,
} from './redis-loss';

/**
 * FLUSHALL on the one Redis mid-batch (an operator's mistake, or a restart without persistence):
 * every queued job, every session, every schedule's tick is gone at once. No process is
 * restarted. Sessions are not recovered (the admin logs in again, as every user would); payout,
 * notification and export jobs are found again from PostgreSQL by the workers' Redis loss check.
 */
export const redisFlush: Scenario = {
  name: 'redis-flush',
  title:
    'FLUSHALL mid-batch: no process restarted, the admin logs in again, lost payout and notification jobs are found again from PostgreSQL',
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
    const redis = cluster.redisClient();
    const flushedAt = Date.now();
    await redis.flushall();
    redis.disconnect();
    ctx.faults += 1;
    await ctx.markRedisDataLoss();
    const lost = await missingJobs(cluster, queued);
    const orphans = await payoutsWithoutJob(cluster);

    // The session went with the flush: expected, written down, not a failure.
    const stale = await cluster
      .api(0)
      .request('GET', '/auth/me', { session: cluster.session, timeoutMs: 5_000 })
      .then((res) => String(res.status))
      .catch(() => 'no-answer');
    ctx.note(
      `sessions are lost in a flush (expected): the old session then got ${stale}; logged in again`,
    );
    await loginAgain(ctx);
    const outage = await probeUntilServing(ctx, flushedAt, async () => true);
    const sweptMs = await waitForSweep(ctx, flushedAt);
    ctx.faultDone();
    ctx.recoveryMs = outage.downMs;
    expectSameProcesses(ctx, pids, 'after the flush');
    const answers = tally({ ...outage.answers, [`old-session-${stale}`]: 1 });
    ctx.note(`answers from the flush until both APIs served the new session: ${answers}`);
    ctx.expect(
      Object.keys(outage.answers).every((status) => ['200', '401', '503'].includes(status)),
      `answers other than 200, 401 or 503 after the flush: ${answers}`,
    );
    ctx.expect(stale === '401', `the flushed session was answered ${stale}, not 401`);
    ctx.note(
      `a burst of payouts, ${waiting} of their jobs waiting; lost with the flush: ${countByQueue(lost)} queued jobs (waiting, active, delayed); ` +
        `${orphans.length} payouts pending or processing without a job right after it`,
    );
    // Jobs only Redis knew of (not held by a worker) must have gone, or the recovery is not tested.
    ctx.expect(
      waiting > 0 && total(lost) > 0,
      `no payout job was waiting when Redis was flushed (${waiting}): the fault did not bite`,
    );

    ctx.afterSettle = async () => {
      const recovery = await checkRecovery(
        ctx,
        lost,
        ctx.redisDataLoss?.at ?? new Date(),
        flushedAt,
      );
      expectSameProcesses(ctx, pids, 'after the settle');
      ctx.summary =
        `redis={down=${(outage.downMs / 1000).toFixed(1)}s answers=${answers} ` +
        `${lossSummary({ lost, orphans: orphans.length, sweptMs, recovery })}}`;
    };
  },
};
