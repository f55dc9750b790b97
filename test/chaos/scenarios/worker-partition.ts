import { setTimeout as sleep } from 'node:timers/promises';
import { QueueName } from '../../../src/queue/queue-names';
import { waitUntil } from '../../support/wait';
import { Scenario, ScenarioContext } from '../scenario';

/** Payout jobs finished since `since` that had stalled: another worker took them over. */
async function takenOver(ctx: ScenarioContext, since: number): Promise<number> {
  const redis = ctx.cluster.redisClient();
  try {
    const base = `${ctx.cluster.prefix}:${QueueName.Payouts}`;
    const ids = await redis.zrangebyscore(`${base}:completed`, since, '+inf');
    if (ids.length === 0) return 0;
    const pipeline = redis.pipeline();
    ids.forEach((id) => pipeline.hget(`${base}:${id}`, 'stalledCounter'));
    return ((await pipeline.exec()) ?? []).filter(([, v]) => Number(v ?? 0) > 0).length;
  } finally {
    redis.disconnect();
  }
}

/**
 * Worker 1's host loses its network link mid-batch (on loopback, without test hosts, the
 * process is frozen with SIGSTOP instead). Its jobs' locks lapse and the other workers take
 * them over; when the link comes back it rejoins and, alone, processes new work.
 */
export const workerPartition: Scenario = {
  name: 'worker-partition',
  title:
    'a worker host cut off the network: its jobs are taken over, and it rejoins and works alone',
  async run(ctx) {
    const { cluster, network } = ctx;
    const isolated = network.kind === 'netns';
    await sleep(ctx.size.loadMs / 3);
    await ctx.midBatch();
    const victim = cluster.workers[0];
    const cutAt = Date.now();
    if (isolated) network.cut('worker1');
    else victim.signal('SIGSTOP');
    ctx.faults += 1;
    ctx.note(
      isolated
        ? 'worker1 host link down at the switch'
        : `no test hosts (${network.note}): worker1 frozen with SIGSTOP instead of cut off`,
    );
    try {
      // Bull's lock (30 s) lapses, the stalled check (15 s) hands the jobs to another worker.
      const over = await waitUntil(() => takenOver(ctx, cutAt), {
        timeoutMs: 150_000,
        intervalMs: 500,
        message: 'jobs of the cut-off worker to be taken over by the others',
      });
      ctx.recoveryMs = Date.now() - cutAt;
      ctx.note(
        `${over} stalled jobs taken over ${Math.round(ctx.recoveryMs / 1000)} s after the cut`,
      );
    } finally {
      if (isolated) network.restore('worker1');
      else victim.signal('SIGCONT');
    }
    ctx.faultDone();

    // Rejoined: alone (the others stopped gracefully), it pays a payout created after that.
    await Promise.all([1, 2].map((i) => cluster.workers[i].stop('SIGTERM')));
    const aloneSince = Date.now();
    await waitUntil(
      async () => {
        const [{ n }] = await cluster.sql<{ n: number }>(
          `select count(*)::int as n from payouts where status = 'paid' and created_at > to_timestamp($1 / 1000.0)`,
          [aloneSince],
        );
        return n > 0;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 250,
        message: 'worker1, alone after it rejoined, to pay a new payout',
      },
    );
    ctx.note(
      `worker1 alone paid new payouts ${Math.round((Date.now() - aloneSince) / 1000)} s after the others left`,
    );
    ctx.expect(victim.running, 'worker1 exited during or after the cut');
    await Promise.all([1, 2].map((i) => cluster.startWorker(i)));
  },
};
