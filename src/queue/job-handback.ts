import type Redis from 'ioredis';
import type { GivenUpJob } from './active-jobs';

/**
 * Puts a given-up job back where the next worker takes it, if this process still holds its
 * lock: deletes the lock, takes it out of `active` (and the stalled candidates) and pushes it
 * at the taking end of `wait` (or `paused` while the queue is paused), as Bull's stalled-job
 * check does for a dead worker's job, minus the wait for that check. Answers 1 when moved,
 * 0 when the lock is no longer ours (the lock lapsed and another worker took it), -1 when the
 * job was not active any more.
 */
const HAND_BACK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[6], ARGV[2])
if redis.call('LREM', KEYS[2], 1, ARGV[2]) == 0 then return -1 end
local target = KEYS[3]
if redis.call('EXISTS', KEYS[5]) == 1 then target = KEYS[4] end
redis.call('RPUSH', target, ARGV[2])
return 1`;

export type HandBackOutcome = 'requeued' | 'taken-over' | 'not-active';

export async function handBack(redis: Redis, job: GivenUpJob): Promise<HandBackOutcome> {
  const key = (name: string) => `${job.keyPrefix}${name}`;
  const answer = await redis.eval(
    HAND_BACK,
    6,
    key(`${job.jobId}:lock`),
    key('active'),
    key('wait'),
    key('paused'),
    key('meta-paused'),
    key('stalled'),
    job.lockToken,
    job.jobId,
  );
  return answer === 1 ? 'requeued' : answer === 0 ? 'taken-over' : 'not-active';
}
