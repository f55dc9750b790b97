import { setTimeout as sleep } from 'node:timers/promises';
import { Scenario } from '../scenario';

/** API instance 1 is killed; instance 2 serves the same session at once; 1 comes back. */
export const apiKill: Scenario = {
  name: 'api-kill',
  title: 'an API instance killed: the other serves the same sessions, and the first comes back',
  async run(ctx) {
    const { cluster } = ctx;
    await sleep(ctx.size.loadMs / 3);
    const exit = await cluster.apis[0].process.stop('SIGKILL');
    ctx.faults += 1;
    const killedAt = Date.now();
    ctx.expect(exit.signal === 'SIGKILL', `api1 did not die of SIGKILL: ${JSON.stringify(exit)}`);
    // The session was opened on api1; api2 knows it (sessions live in Redis).
    const me = await cluster.api(1).request<{ user?: { email?: string } }>('GET', '/auth/me', {
      session: cluster.session,
    });
    ctx.expect(me.status === 200, `api2 refused api1's session: ${me.status}`);
    const cycle = await cluster
      .api(1)
      .request('POST', '/payouts/cycle', { session: cluster.session });
    ctx.expect(
      cycle.status === 202,
      `api2 did not accept a cycle with api1's session: ${cycle.status}`,
    );
    ctx.recoveryMs = Date.now() - killedAt;
    await sleep(ctx.size.loadMs / 3);
    await cluster.startApi(0);
    ctx.faultDone();
    const again = await cluster.api(0).request('GET', '/auth/me', { session: cluster.session });
    ctx.expect(again.status === 200, `the restarted api1 refused the session: ${again.status}`);
    ctx.note('session opened on api1 served by api2 while api1 was down, and by api1 again after');
  },
};
