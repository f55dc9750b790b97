import type Redis from 'ioredis';
import { ObserverClient } from './payout-stack';

const QUEUES = ['payouts', 'notifications'];

/**
 * Jobs not finished yet in the queues the cycle feeds (waiting, active, delayed, paused). The
 * next tick of a repeatable job (the scheduler's reconciler, ID `repeat:...`) always waits in
 * `delayed`: it is not part of the cycle, and counting it would keep the cycle open forever.
 */
/** Redis commands one poll sends (INFO, then 4 per queue), for scenarios that count commands. */
export const REDIS_COMMANDS_PER_POLL = 1 + 4 * QUEUES.length;

async function queuedJobs(redis: Redis): Promise<number> {
  const pipeline = redis.pipeline();
  for (const queue of QUEUES) {
    pipeline.llen(`bull:${queue}:wait`);
    pipeline.llen(`bull:${queue}:active`);
    pipeline.zrange(`bull:${queue}:delayed`, 0, -1);
    pipeline.llen(`bull:${queue}:paused`);
  }
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, reply]) => {
    if (!Array.isArray(reply)) return sum + Number(reply ?? 0);
    return sum + reply.filter((id) => !String(id).startsWith('tick:')).length;
  }, 0);
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
 * Waits until the cycle is over: payouts exist, none is pending or processing, the payout and
 * notification queues are empty, twice in a row. The end time is read from the rows themselves
 * (the last finished payout or notification), not from when this loop noticed.
 */
export async function waitForCycle(
  db: ObserverClient,
  redis: Redis,
  timeoutMs: number,
): Promise<CycleOutcome> {
  const deadline = Date.now() + timeoutMs;
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
    const quiet =
      Number(state.total) > 0 && Number(state.open) === 0 && (await queuedJobs(redis)) === 0;
    if (quiet && quietBefore) break;
    quietBefore = quiet;
    if (Date.now() > deadline)
      throw new Error(
        `the cycle did not finish in time (${state.total} payouts, ${state.open} open)`,
      );
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
