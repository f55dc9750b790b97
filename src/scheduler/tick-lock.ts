import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

/** How long a tick's lock outlives its tick: a period, within these bounds. */
const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 86_400_000;

/**
 * Legacy mode fires every tick in every instance: the first to SET the tick's key (NX) runs it,
 * the others skip it. The key names the schedule and the tick's instant, which every instance
 * computes alike, and expires after about a period (no cleanup needed; a clock skew shorter
 * than that cannot make a late instance run the tick again).
 */
@Injectable()
export class TickLock {
  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  async acquire(
    schedule: string,
    tickAt: number,
    periodMs: number,
    holder: string,
  ): Promise<{ acquired: true } | { acquired: false; holder: string | null }> {
    const key = this.key(schedule, tickAt);
    const ttl = Math.min(Math.max(periodMs, MIN_TTL_MS), MAX_TTL_MS);
    const set = await this.redis.commands.set(key, holder, 'PX', ttl, 'NX');
    if (set === 'OK') return { acquired: true };
    return { acquired: false, holder: await this.redis.commands.get(key) };
  }

  key(schedule: string, tickAt: number): string {
    return `${this.config.redis.prefix}:scheduler:tick:${schedule}:${tickAt}`;
  }
}
