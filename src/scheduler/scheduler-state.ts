import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

export type SchedulerMode = 'distributed' | 'legacy';

export interface SchedulerModeReport {
  mode: SchedulerMode;
  instance: string;
  at: string;
}

/**
 * The mode the schedulers last started in, kept in Redis so that API processes (which run no
 * scheduler) can report it. With instances in different modes, the last one started wins.
 */
@Injectable()
export class SchedulerState {
  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  async report(mode: SchedulerMode, instance: string): Promise<void> {
    await this.redis.commands.hset(this.key, { mode, instance, at: new Date().toISOString() });
  }

  async read(): Promise<SchedulerModeReport | undefined> {
    const fields = await this.redis.commands.hgetall(this.key);
    if (fields.mode !== 'distributed' && fields.mode !== 'legacy') return undefined;
    return { mode: fields.mode, instance: fields.instance ?? '', at: fields.at ?? '' };
  }

  private get key(): string {
    return `${this.config.redis.prefix}:scheduler:mode`;
  }
}
