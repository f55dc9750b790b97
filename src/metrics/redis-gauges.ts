import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { RedisConnections } from '../redis/redis-connections';
import { parseInfo } from '../redis/redis-preflight';
import { MetricsRegistry } from './metrics.registry';
import { scrapeRead } from './with-timeout';

const READ_TIMEOUT_MS = 2_000;

interface Snapshot {
  usedBytes: number;
  maxBytes: number;
  policy: string;
}

/**
 * Redis health as the app sees it, from one `INFO memory` per scrape on the app's command client
 * (HTTP roles): reachable, memory used, its limit, and the eviction policy (Bull loses jobs
 * under anything but noeviction). While Redis does not answer within 2 s, redis_up is 0 and the
 * other series are left out.
 */
@Injectable()
export class RedisGauges {
  constructor(
    private readonly redis: RedisConnections,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    const read = scrapeRead(() => this.snapshot(), { timeoutMs: READ_TIMEOUT_MS });
    new Gauge({
      name: 'redis_up',
      help: '1 when Redis answered INFO within 2 s at this scrape',
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'redis_memory_used_bytes',
      help: 'Memory Redis has allocated (INFO used_memory)',
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (snapshot) this.set(snapshot.usedBytes);
      },
    });
    new Gauge({
      name: 'redis_memory_max_bytes',
      help: 'Redis maxmemory (INFO maxmemory); 0 means no limit',
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (snapshot) this.set(snapshot.maxBytes);
      },
    });
    new Gauge({
      name: 'redis_maxmemory_policy_info',
      help: "Redis's maxmemory-policy, as a label (value always 1); Bull needs noeviction",
      labelNames: ['policy'],
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (snapshot) this.set({ policy: snapshot.policy }, 1);
      },
    });
  }

  private async snapshot(): Promise<Snapshot> {
    const info = parseInfo(await this.redis.commands.info('memory'));
    return {
      usedBytes: Number(info.used_memory) || 0,
      maxBytes: Number(info.maxmemory) || 0,
      policy: info.maxmemory_policy ?? 'unknown',
    };
  }
}
