import 'reflect-metadata';
import Redis from 'ioredis';
import request from 'supertest';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';

/** Jobs written straight into Bull's key layout, across one queue's completed set. */
const TOTAL_JOBS = 1_000_000;
/** The first TRAIL_JOBS of them belong to one big trail (a 100k-payout cycle). */
const TRAIL_JOBS = 100_000;
/** Every TRIM_EVERY-th job of the trail is deleted afterwards, as retention would. */
const TRIM_EVERY = 100;
const BATCH = 50_000;
const BIG = 'cycle-big.0001';

/**
 * Writes jobs [first, first + count) as Bull 4 stores a completed job (a hash and a member of
 * the completed set) and, for those of the big trail, the correlation index entry JobProducer
 * writes. 50 jobs share each millisecond, so the trail's pages cross ties of equal scores.
 */
const FILL = `
local prefix, first, count, trailJobs, big, base = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
for id = first, first + count - 1 do
  local ts = base + math.floor(id / 50)
  local corr = id <= trailJobs and big or ('other-' .. (id % 5000))
  redis.call('HSET', prefix .. ':payouts:' .. id,
    'name', 'payout.process',
    'data', '{"payoutId":"p' .. id .. '","meta":{"correlationId":"' .. corr .. '"}}',
    'opts', '{"attempts":5}',
    'timestamp', ts, 'processedOn', ts, 'finishedOn', ts + 1, 'attemptsMade', 1)
  redis.call('ZADD', prefix .. ':payouts:completed', ts + 1, id)
  if id <= trailJobs then
    redis.call('ZADD', prefix .. ':corr:' .. big, ts, 'payouts:' .. id)
  end
end
return count`;

/** Commands Redis executed, all kinds but INFO (the measuring itself), from INFO commandstats. */
async function commandsExecuted(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') total += Number(match[2]);
  }
  return total;
}

interface TrailPage {
  jobs: Array<{
    id: string;
    queue: string;
    state: string;
    correlationId: string;
    createdAt: string;
  }>;
  missing: number;
  nextCursor: string | null;
}

describe('Correlation trail from the index, with 1,000,000 jobs in Redis', () => {
  let redis: TestRedis;
  let client: Redis;
  let http: HttpApp;
  let operator: Session;
  let prefix: string;

  const trailPage = async (path: string): Promise<TrailPage> =>
    (await request(http.server).get(path).set('Cookie', operator.cookie).expect(200)).body;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = testEnv(redis.url, await createTestDatabase(), { APP_ROLE: 'api' });
    prefix = env.QUEUE_PREFIX;
    http = await createHttpApp(env);
    await createUser(http, 'operator@example.com', 'operator');
    operator = await login(http.server, 'operator@example.com');
    client = new Redis(redis.url);
    const base = Date.now() - 3_600_000;
    for (let first = 1; first <= TOTAL_JOBS; first += BATCH) {
      await client.eval(FILL, 0, prefix, first, BATCH, TRAIL_JOBS, BIG, base);
    }
    const trimmed = client.pipeline();
    for (let id = TRIM_EVERY; id <= TRAIL_JOBS; id += TRIM_EVERY) {
      trimmed.del(`${prefix}:payouts:${id}`).zrem(`${prefix}:payouts:completed`, String(id));
    }
    await trimmed.exec();
  }, 600_000);

  afterAll(async () => {
    client?.disconnect();
    await http?.close();
    await redis?.stop();
  });

  it('answers one page with a number of Redis commands set by the page size, not by the jobs', async () => {
    expect(await client.zcard(`${prefix}:payouts:completed`)).toBe(
      TOTAL_JOBS - TRAIL_JOBS / TRIM_EVERY,
    );
    const measure = async (limit: number) => {
      const before = await commandsExecuted(client);
      const page = await trailPage(`/jobs/by-correlation/${BIG}?limit=${limit}`);
      return { page, commands: (await commandsExecuted(client)) - before };
    };
    const small = await measure(10);
    const large = await measure(100);
    // Per job of the page: its fields, three set lookups and its lock; plus the page of the
    // index, the queue's pause flag and the session (a handful).
    expect(small.commands).toBeLessThanOrEqual(10 * 5 + 10);
    expect(large.commands).toBeLessThanOrEqual(100 * 5 + 10);
    process.stdout.write(
      `Redis commands for one trail page with ${TOTAL_JOBS} jobs in Redis: ` +
        `${small.commands} (limit 10), ${large.commands} (limit 100)\n`,
    );
    expect(large.page.jobs).toHaveLength(100 - 1); // job 100 was trimmed
    expect(large.page.missing).toBe(1);
    expect(large.page.jobs[0]).toMatchObject({
      id: '1',
      queue: 'payouts',
      state: 'completed',
      correlationId: BIG,
    });
  });

  it('GET /queues runs one CLIENT LIST per call, not one per queue', async () => {
    const clientLists = async () =>
      Number(
        /^cmdstat_client\|list:calls=(\d+)/m.exec(await client.info('commandstats'))?.[1] ?? 0,
      );
    const before = await clientLists();
    const res = await request(http.server)
      .get('/queues')
      .set('Cookie', operator.cookie)
      .expect(200);
    expect(res.body.queues).toHaveLength(4);
    expect(res.body.queues.map((q: { workers: number }) => q.workers)).toEqual([0, 0, 0, 0]);
    expect((await clientLists()) - before).toBe(1);
  });

  it('pages through a 100k-job trail to its end, each job once, trimmed ones counted as missing', async () => {
    const seen = new Set<string>();
    let missing = 0;
    let pages = 0;
    let previous = '';
    let cursor: string | null = null;
    const duplicates: string[] = [];
    const outOfOrder: string[] = [];
    do {
      const page: TrailPage = await trailPage(
        `/jobs/by-correlation/${BIG}?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      for (const job of page.jobs) {
        if (seen.has(job.id)) duplicates.push(job.id);
        seen.add(job.id);
        // Oldest first, across pages too.
        if (job.createdAt < previous) outOfOrder.push(job.id);
        previous = job.createdAt;
      }
      missing += page.missing;
      pages += 1;
      cursor = page.nextCursor;
    } while (cursor);
    expect({ duplicates, outOfOrder }).toEqual({ duplicates: [], outOfOrder: [] });
    expect(missing).toBe(TRAIL_JOBS / TRIM_EVERY);
    expect(seen.size).toBe(TRAIL_JOBS - TRAIL_JOBS / TRIM_EVERY);
    expect(pages).toBe(TRAIL_JOBS / 500);
    for (const id of ['1', '99', '101', String(TRAIL_JOBS - 1)]) expect(seen.has(id)).toBe(true);
    expect(seen.has(String(TRAIL_JOBS + 1))).toBe(false);
  }, 600_000);
});
