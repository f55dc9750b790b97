import type { Queue } from 'bull';
import { AppConfig } from '../config';

/**
 * Whether retention may have removed jobs of a trail whose first job was created at `since`
 * (ms; undefined when none was found). A queue trims its completed jobs to the newest
 * COMPLETED_JOB_RETENTION: once it holds that many and its oldest kept one finished after
 * `since`, jobs of the trail's period may be gone. Failed jobs go after FAILED_JOB_RETENTION.
 */
export async function retentionMayHaveTrimmed(
  queues: Queue[],
  since: number | undefined,
  config: AppConfig,
  now = Date.now(),
): Promise<boolean> {
  if (since !== undefined && since < now - config.queue.failedRetentionMs) return true;
  for (const queue of queues) {
    const key = queue.toKey('completed');
    const [kept, oldest] = await Promise.all([
      queue.client.zcard(key),
      queue.client.zrange(key, 0, 0, 'WITHSCORES'),
    ]);
    if (kept < config.queue.completedRetention) continue;
    // At the cap: it has trimmed. Without a known start, any of the trail may be gone.
    if (since === undefined || Number(oldest[1]) > since) return true;
  }
  return false;
}
