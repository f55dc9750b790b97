import type Redis from 'ioredis';
import { ObserverClient } from './payout-stack';

const QUEUES = ['payouts', 'notifications'];
const LISTS = ['wait', 'active', 'paused'] as const;

/** Redis commands one poll sends (INFO, then 4 per queue), for scenarios that count commands. */
export const REDIS_COMMANDS_PER_POLL = 1 + 4 * QUEUES.length;

/** How long the wait stays open before it says, once a minute after that, what keeps it open. */
const EXPLAIN_AFTER_MS = 120_000;

/**
 * The jobs of the cycle not finished yet, by queue and state (`payouts:wait` ...): waiting,
 * active, paused (counted), delayed (a retry after a backoff or a lease; by ID). The scheduler's
 * tick jobs (`tick:<schedule>:<ms>`) always wait in `delayed` for their time: not the cycle's.
 */
async function unfinishedJobs(redis: Redis): Promise<Map<string, number>> {
  const pipeline = redis.pipeline();
  for (const queue of QUEUES) {
    for (const list of LISTS) pipeline.llen(`bull:${queue}:${list}`);
    pipeline.zrange(`bull:${queue}:delayed`, 0, -1);
  }
  const replies = (await pipeline.exec()) ?? [];
  const jobs = new Map<string, number>();
  let i = 0;
  for (const queue of QUEUES) {
    for (const state of [...LISTS, 'delayed']) {
      const [error, reply] = replies[i++];
      if (error) throw error;
      const count = Array.isArray(reply)
        ? reply.filter((id) => !String(id).startsWith('tick:')).length
        : Number(reply);
      if (count > 0) jobs.set(`${queue}:${state}`, count);
    }
  }
  return jobs;
}

export interface CycleOutcome {
  payouts: number;
  notifications: number;
  /** When the last payout or notification was written (PostgreSQL clock, ms since epoch). */
  lastWriteMs: number;
  redisPeakBytes: number;
  /** Times the loop polled (REDIS_COMMANDS_PER_POLL Redis commands each). */
  polls: number;
}

/**
 * Waits until the cycle's work is done: payouts exist, none is pending or processing, and no
 * job of the payout and notification queues is left to run (see unfinishedJobs), twice in a row.
 * The end time is read from the rows themselves (the last finished payout or notification), not
 * from when this loop noticed. A wait that lasts says what keeps it open (`explain`): the open
 * payouts with their last error and lease, the jobs by state with their delay and last failure.
 */
export async function waitForCycle(
  db: ObserverClient,
  redis: Redis,
  timeoutMs: number,
  explain: (line: string) => void,
): Promise<CycleOutcome> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let nextExplanation = started + EXPLAIN_AFTER_MS;
  let quietBefore = false;
  let redisPeakBytes = 0;
  let polls = 0;
  for (;;) {
    polls += 1;
    const memory = /used_memory:(\d+)/.exec(await redis.info('memory'));
    redisPeakBytes = Math.max(redisPeakBytes, Number(memory?.[1] ?? 0));
    const [state] = await db.query<{ total: string; open: string }>(
      `select count(*) as total, count(*) filter (where status in ('pending', 'processing')) as open from payouts`,
    );
    const jobs = await unfinishedJobs(redis);
    const quiet = Number(state.total) > 0 && Number(state.open) === 0 && jobs.size === 0;
    if (quiet && quietBefore) break;
    quietBefore = quiet;
    if (Date.now() > deadline || Date.now() > nextExplanation) {
      const why = await whatKeepsItOpen(db, redis, state, jobs);
      if (Date.now() > deadline) throw new Error(`the cycle did not finish in time: ${why}`);
      explain(`  cycle still open after ${Math.round((Date.now() - started) / 1000)} s: ${why}`);
      nextExplanation = Date.now() + 60_000;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const [last] = await db.query<{ payouts: string; notifications: string; last_write: Date }>(
    `select (select count(*) from payouts) as payouts,
            (select count(*) from notifications) as notifications,
            greatest((select max(finished_at) from payouts), (select max(created_at) from notifications)) as last_write`,
  );
  return {
    payouts: Number(last.payouts),
    notifications: Number(last.notifications),
    lastWriteMs: new Date(last.last_write).getTime(),
    redisPeakBytes,
    polls,
  };
}

/** One line: the open payouts (a few, with their last error and lease) and the jobs left, by state. */
async function whatKeepsItOpen(
  db: ObserverClient,
  redis: Redis,
  state: { total: string; open: string },
  jobs: Map<string, number>,
): Promise<string> {
  const parts = [`${state.total} payouts, ${state.open} pending or processing`];
  if (Number(state.open) > 0) {
    const open = await db.query<Record<string, unknown>>(
      `select id, status, attempts, lease_owner, lease_expires_at, outcome_unknown_at, last_error
       from payouts where status in ('pending', 'processing') order by updated_at limit 3`,
    );
    parts.push(`oldest open: ${JSON.stringify(open)}`);
  }
  for (const [where, count] of jobs) {
    const [queue, list] = where.split(':');
    const ids =
      list === 'delayed'
        ? (await redis.zrange(`bull:${queue}:delayed`, 0, -1)).filter(
            (id) => !id.startsWith('tick:'),
          )
        : await redis.lrange(`bull:${queue}:${list}`, 0, -1);
    const samples = [];
    for (const id of ids.slice(0, 3)) {
      const job = await redis.hmget(
        `bull:${queue}:${id}`,
        'name',
        'attemptsMade',
        'delay',
        'failedReason',
      );
      samples.push({ id, name: job[0], attemptsMade: job[1], delay: job[2], failedReason: job[3] });
    }
    parts.push(`${where}: ${count} job(s), e.g. ${JSON.stringify(samples)}`);
  }
  return parts.join('; ');
}
