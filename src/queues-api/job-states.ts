import type { Queue } from 'bull';

export const JOB_STATES = [
  'waiting',
  'active',
  'completed',
  'failed',
  'delayed',
  'paused',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * Job IDs of one state, newest first (delayed: soonest due first), read straight from Bull's
 * keys: lists for waiting/active/paused, sorted sets for the others. Bull's getJobs() cannot say
 * how many IDs it consumed once it drops jobs removed meanwhile, which cursors need.
 */
export async function jobIdsInState(
  queue: Queue,
  state: JobState,
  start: number,
  end: number,
): Promise<string[]> {
  switch (state) {
    case 'waiting':
      return queue.client.lrange(queue.toKey('wait'), start, end);
    case 'active':
    case 'paused':
      return queue.client.lrange(queue.toKey(state), start, end);
    case 'delayed':
      return queue.client.zrange(queue.toKey('delayed'), start, end);
    case 'completed':
    case 'failed':
      return queue.client.zrevrange(queue.toKey(state), start, end);
  }
}
