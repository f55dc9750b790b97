import Bull from 'bull';
import Redis from 'ioredis';
import { JobName, QueueName } from '../../src/queue/queue-names';
import { AppProcess } from '../support/app-process';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

/**
 * Jobs that our producer would never write, put straight into Redis as another producer or an
 * older version might: the worker fails each with a reason that says what is wrong, without
 * retrying it, without crashing, and the queue keeps serving the good jobs behind them.
 */
const MALFORMED: Array<{ what: string; name: string; data: unknown; reason: RegExp }> = [
  {
    what: 'a payout id that is not a UUID',
    name: JobName.PayoutProcess,
    data: { payoutId: 'not-a-uuid' },
    reason: /Invalid data for job "payout\.process": payoutId/,
  },
  {
    what: 'a required field missing (and no meta)',
    name: JobName.PayoutProcess,
    data: {},
    reason: /Invalid data for job "payout\.process": payoutId/,
  },
  {
    what: 'a payee id sent as a string',
    name: JobName.PayoutPayPayee,
    data: { payeeId: '12' },
    reason: /Invalid data for job "payout\.pay-payee": payeeId/,
  },
  {
    what: 'a value outside the allowed set',
    name: JobName.PayoutCycle,
    data: { trigger: 'cron' },
    reason: /Invalid data for job "payout\.cycle": trigger/,
  },
  {
    what: 'a job name no version of this app ever had',
    name: 'payout.teleport',
    data: { payoutId: '2f1b7f52-1c9e-4c59-9a8e-1d2a3b4c5d6e' },
    reason: /No handler for job name "payout\.teleport"/,
  },
  {
    // JSON.parse makes "__proto__" an own property, as Bull's JSON.parse of the stored text does.
    what: 'a "__proto__" key carrying the required field',
    name: JobName.PayoutProcess,
    data: JSON.parse('{"__proto__":{"payoutId":"2f1b7f52-1c9e-4c59-9a8e-1d2a3b4c5d6e"}}') as object,
    reason: /Invalid data for job "payout\.process": a property named "__proto__" is not allowed/,
  },
  { what: 'null data', name: JobName.PayoutCycle, data: null, reason: /expected an object/ },
  { what: 'an array', name: JobName.PayoutCycle, data: [1, 2, 3], reason: /expected an object/ },
  {
    what: 'a bare string',
    name: JobName.PayoutCycle,
    data: 'pay everyone',
    reason: /expected an object/,
  },
  { what: 'a number', name: JobName.PayoutCycle, data: 42, reason: /expected an object/ },
  {
    what: 'a meta that is not an object and an oversized stray field',
    name: JobName.PayoutCycle,
    data: { trigger: 'sideways', meta: 'not an object', correlationId: 'x'.repeat(5_000) },
    reason: /Invalid data for job "payout\.cycle": trigger/,
  },
];

/** Writes a job the way Bull's add() stores it (hash + wait list), with any data text. */
async function writeRawJob(
  client: Redis,
  prefix: string,
  name: string,
  data: string,
  opts = JSON.stringify({ attempts: 5, backoff: 10, timestamp: Date.now() }),
): Promise<string> {
  const base = `${prefix}:${QueueName.Payouts}`;
  const id = String(await client.incr(`${base}:id`));
  await client.hset(`${base}:${id}`, {
    name,
    data,
    opts,
    timestamp: String(Date.now()),
    delay: '0',
    priority: '0',
  });
  await client.lpush(`${base}:wait`, id);
  return id;
}

describe('Malformed jobs written straight into Redis', () => {
  let redis: TestRedis;
  let env: Record<string, string>;
  let worker: AppProcess;
  let payouts: Bull.Queue;
  let client: Redis;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = testEnv(redis.url, await createTestDatabase(), { LOG_LEVEL: 'info', APP_ROLE: 'worker' });
    worker = new AppProcess('worker', env);
    await worker.waitReady();
    payouts = new Bull(QueueName.Payouts, redis.url, { prefix: env.QUEUE_PREFIX });
    client = new Redis(redis.url);
  });

  afterAll(async () => {
    client?.disconnect();
    await payouts?.close();
    await worker?.stop();
    await redis?.stop();
  });

  async function expectFailedOnce(id: string, what: string, reason: RegExp): Promise<void> {
    const stored = await waitUntil(
      async () => {
        const job = await payouts.getJob(id);
        return job && (await job.isFailed()) ? job : undefined;
      },
      { timeoutMs: 15_000, message: `the job with ${what} to fail\n${worker.tail()}` },
    );
    expect({ what, reason: stored.failedReason }).toEqual({
      what,
      reason: expect.stringMatching(reason),
    });
    // Permanent: not retried although the job allowed 5 attempts.
    expect({ what, attempts: stored.attemptsMade }).toEqual({ what, attempts: 1 });
  }

  it('fails each malformed job once, with a clear reason, and keeps processing good jobs behind them', async () => {
    const written = [];
    for (const job of MALFORMED) {
      written.push({
        ...job,
        id: await writeRawJob(client, env.QUEUE_PREFIX, job.name, JSON.stringify(job.data)),
      });
    }
    const good = await payouts.add(JobName.PayoutCycle, { trigger: 'manual' });

    await waitUntil(async () => (await good.getState()) === 'completed', {
      timeoutMs: 30_000,
      message: `the good job behind the malformed ones to complete\n${worker.tail()}`,
    });
    for (const { what, id, reason } of written) await expectFailedOnce(id, what, reason);
    expect(worker.running).toBe(true);
  }, 60_000);

  it('fails a job whose stored data or options are not JSON at all, at once, and the worker carries on', async () => {
    const corruptData = await writeRawJob(
      client,
      env.QUEUE_PREFIX,
      JobName.PayoutCycle,
      '{"trigger": "manual", oops',
    );
    const corruptOpts = await writeRawJob(
      client,
      env.QUEUE_PREFIX,
      JobName.PayoutCycle,
      JSON.stringify({ trigger: 'manual' }),
      '{attempts: 3',
    );
    const after = await payouts.add(JobName.PayoutCycle, { trigger: 'manual' });

    await waitUntil(async () => (await after.getState()) === 'completed', {
      timeoutMs: 30_000,
      message: `a good job after the corrupt ones to complete\n${worker.tail()}`,
    });
    // Well before Bull's lock (30 s) could lapse: failed by the worker that took it, not by the stalled check.
    await expectFailedOnce(corruptData, 'data that is not JSON', /^Stored job is not valid JSON/);
    await expectFailedOnce(
      corruptOpts,
      'options that are not JSON',
      /^Stored job is not valid JSON/,
    );
    const kept = await payouts.getJob(corruptData);
    expect(kept?.data).toEqual({
      corruptData: '{"trigger": "manual", oops',
      corruptOpts: expect.any(String),
    });
    expect(worker.running).toBe(true);
  }, 60_000);
});
