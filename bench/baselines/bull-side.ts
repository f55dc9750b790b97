import Bull from 'bull';
import Redis from 'ioredis';
import { ParentChannel } from '../lib/child-side';
import { serveQueueSide } from '../lib/queue-side';
import { WorkerProbe } from '../lib/worker-probe';
import { BASELINE_JOB_OPTIONS, BASELINE_QUEUE_SETTINGS } from './bull-options';

/**
 * The baseline of the jobs and latency benchmarks: bare Bull on the same Redis, with the same
 * job options and queue settings, adding `{ payoutId }` and processing with a no-op callback.
 * No Nest, no CLS, no validation, no logger. BENCH_ROLE=worker processes, producer only adds.
 */
const JOB_NAME = 'payout.process';

async function main(): Promise<void> {
  const channel = new ParentChannel();
  const worker = process.env.BENCH_ROLE === 'worker';
  const probe = worker ? new WorkerProbe(channel) : undefined;
  const url = process.env.REDIS_URL as string;
  // Shared client and subscriber, a blocking client of its own: the connections Bull documents
  // for reuse, and what the project's RedisConnections gives its queues.
  const shared = {
    client: new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false }),
    subscriber: new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false }),
  };
  const opened: Redis[] = [shared.client, shared.subscriber];
  const queue = new Bull('payouts', {
    prefix: 'bull',
    settings: BASELINE_QUEUE_SETTINGS,
    createClient: (type) => {
      if (type !== 'bclient') return shared[type];
      const blocking = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false });
      opened.push(blocking);
      return blocking;
    },
  });
  try {
    await queue.isReady();
    if (worker) {
      const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 1);
      void queue.process(JOB_NAME, concurrency, async (job) => {
        probe?.started(job.id);
      });
    }
    serveQueueSide(
      {
        queue,
        addOne: async (payoutId) =>
          String((await queue.add(JOB_NAME, { payoutId }, BASELINE_JOB_OPTIONS)).id),
        addMany: async (ids) => {
          await queue.addBulk(
            ids.map((payoutId) => ({
              name: JOB_NAME,
              data: { payoutId },
              opts: BASELINE_JOB_OPTIONS,
            })),
          );
        },
        inContext: (fn) => fn(),
        close: async () => {
          await queue.close();
          await Promise.all(opened.map((client) => client.quit().catch(() => undefined)));
        },
      },
      channel,
      probe,
    );
    channel.send({ type: 'ready' });
  } catch (error) {
    channel.fail(error);
    process.exit(1);
  }
}

void main();
