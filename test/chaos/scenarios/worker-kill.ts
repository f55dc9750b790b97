import { Scenario } from '../scenario';

/** A random worker is killed with SIGKILL every few seconds, mid-batch, and started again. */
export const workerSigkill: Scenario = {
  name: 'worker-sigkill',
  title:
    'a worker killed with SIGKILL mid-batch, repeatedly: its jobs are taken over, each payout pays once',
  async run(ctx) {
    await ctx.repeatDuringLoad(ctx.size.faultEveryMs, async () => {
      const { index, worker } = ctx.randomWorker();
      const exit = await worker.stop('SIGKILL');
      ctx.expect(
        exit.signal === 'SIGKILL',
        `${worker.name} did not die of SIGKILL: ${JSON.stringify(exit)}`,
      );
      // A supervisor (systemd, Kubernetes, compose's restart policy) starts it again.
      await ctx.cluster.startWorker(index);
    });
    ctx.faultDone();
    ctx.note(`${ctx.faults} workers killed`);
  },
};

/** A random worker gets SIGTERM mid-batch: it finishes its active jobs and exits 0; nothing stalls. */
export const workerSigterm: Scenario = {
  name: 'worker-sigterm',
  title:
    'a worker stopped with SIGTERM mid-batch finishes its active jobs, exits 0, and no job stalls',
  async run(ctx) {
    await ctx.repeatDuringLoad(ctx.size.faultEveryMs, async () => {
      const { index, worker } = ctx.randomWorker();
      const exit = await worker.stop('SIGTERM');
      ctx.expect(
        exit.code === 0 && exit.signal === null,
        `${worker.name} did not exit 0 after SIGTERM: ${JSON.stringify(exit)}\n${worker.tail()}`,
      );
      await ctx.cluster.startWorker(index);
    });
    ctx.faultDone();
    ctx.note(`${ctx.faults} graceful stops`);
    ctx.afterSettle = async (verdict) => {
      // A payout whose attempt was cut off is taken over later, from its lapsed lease ("taken
      // over from <worker>"): after graceful stops there must be none.
      const [{ n }] = await ctx.cluster.sql<{ n: number }>(
        `select count(*)::int as n from payout_events where detail like '%taken over from%'`,
      );
      ctx.expect(n === 0, `${n} payouts were left mid-attempt by a graceful stop`);
      // Bull 4 aborts its blocking fetch at close: a job Redis handed over in that instant is
      // never started and is put back by the stalled check (counted in "stalled", not lost).
      ctx.note(
        `${verdict.figures.stalledJobs} jobs fetched during a close and put back unstarted; 0 payouts interrupted`,
      );
    };
  },
};
