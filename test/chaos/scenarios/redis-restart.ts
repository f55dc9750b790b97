import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../../support/wait';
import { Scenario, ScenarioContext } from '../scenario';

/** Polls both APIs with the admin session while Redis is down; tallies the answers. */
async function probeWhileDown(
  ctx: ScenarioContext,
  until: () => boolean,
): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  while (!until()) {
    for (const api of ctx.cluster.apis) {
      for (const path of ['/auth/me', '/health/ready']) {
        const status = await api.client
          .request('GET', path, { session: ctx.cluster.session, timeoutMs: 5_000 })
          .then((res) => String(res.status))
          .catch(() => 'no-answer');
        seen[status] = (seen[status] ?? 0) + 1;
      }
    }
    await sleep(100);
  }
  return seen;
}

/**
 * Redis is killed mid-run and started again from its AOF on the same port. No process is
 * restarted: they reconnect by themselves; the API answers 503 meanwhile, then serves again.
 */
export const redisRestart: Scenario = {
  name: 'redis-restart',
  title:
    'Redis killed and restarted from its AOF: processes reconnect, the API answers 503 (never 500) meanwhile',
  appendfsync: 'always',
  async run(ctx) {
    const { cluster } = ctx;
    const pids = [...cluster.apis.map((a) => a.process), ...cluster.workers].map((p) => p.pid);
    await sleep(ctx.size.loadMs / 3);
    await ctx.midBatch();
    await cluster.redis.stop('SIGKILL');
    ctx.faults += 1;
    const downUntil = Date.now() + ctx.size.outageMs;
    const duringOutage = await probeWhileDown(ctx, () => Date.now() > downUntil);
    await cluster.redis.start();
    const back = Date.now();
    ctx.faultDone();
    // Serving again: the same session (restored from the AOF) on both instances.
    await waitUntil(
      async () => {
        for (const api of cluster.apis) {
          const res = await api.client.request('GET', '/auth/me', { session: cluster.session });
          if (res.status !== 200) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100, message: 'both APIs to serve the session again' },
    );
    ctx.recoveryMs = Date.now() - back;
    const now = [...cluster.apis.map((a) => a.process), ...cluster.workers];
    ctx.expect(
      now.every((p, i) => p.running && p.pid === pids[i]),
      'a process exited or was replaced while Redis was away',
    );
    const answers = Object.entries(duringOutage)
      .map(([k, n]) => `${k}:${n}`)
      .join(',');
    ctx.note(`answers while Redis was down: ${answers}`);
    ctx.expect((duringOutage['503'] ?? 0) > 0, `no 503 while Redis was down (${answers})`);
    ctx.expect(
      Object.keys(duringOutage).every((status) => status === '503' || status === '200'),
      `answers other than 503 while Redis was down: ${answers}`,
    );
  },
};
