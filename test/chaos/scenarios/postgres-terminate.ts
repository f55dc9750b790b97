import { setTimeout as sleep } from 'node:timers/promises';
import { Scenario } from '../scenario';

/**
 * Every connection of the app to its database is terminated (pg_terminate_backend), again and
 * again for a few seconds: jobs retry, nothing is paid twice, no process dies.
 */
export const postgresTerminate: Scenario = {
  name: 'postgres-terminate',
  title: 'PostgreSQL connections terminated for a few seconds: jobs retry, nothing is paid twice',
  async run(ctx) {
    const { cluster } = ctx;
    await sleep(ctx.size.loadMs / 3);
    await ctx.midBatch();
    const until = Date.now() + ctx.size.outageMs;
    let terminated = 0;
    while (Date.now() < until) {
      const rows = await cluster.sql<{ ok: boolean }>(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and application_name <> 'chaos-driver'`,
      );
      terminated += rows.filter((r) => r.ok).length;
      await sleep(100);
    }
    ctx.faults = terminated;
    ctx.faultDone();
    ctx.note(`${terminated} backends terminated over ${ctx.size.outageMs} ms`);
    const all = [...cluster.apis.map((a) => a.process), ...cluster.workers];
    ctx.expect(
      all.every((p) => p.running),
      'a process died when its PostgreSQL connections were cut',
    );
  },
};
