import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config';
import { createRedisClient } from './redis-options';

export type BullClientType = 'client' | 'subscriber' | 'bclient';

/**
 * The one place that opens Redis connections, with the options of redisOptions() (one server
 * from REDIS_URL, or the primary named by Sentinel). Connections are shared where Redis allows it:
 *   - `commands`: the app's own commands (sessions, locks, rate limits, health); fails fast while
 *     Redis is down so HTTP can answer 503 instead of hanging;
 *   - `bullClient` / `bullSubscriber`: shared by every queue (Bull's "reusing connections");
 *   - a blocking client per queue, which Redis cannot share.
 * Bull does not close connections it got from createClient, so this class closes them all, last.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  private readonly opened = new Set<Redis>();
  private commandClient?: Redis;
  private sharedBull?: { client: Redis; subscriber: Redis };

  constructor(private readonly config: AppConfig) {}

  /** Shared client for the application's own commands. */
  get commands(): Redis {
    this.commandClient ??= this.open('commands', {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    });
    return this.commandClient;
  }

  /** The `createClient` Bull calls for each queue. */
  forBull(type: BullClientType): Redis {
    // Bull requires these two options on its subscriber and blocking clients, and waiting
    // (rather than failing) while Redis restarts is what a worker wants on its own connections.
    const bullOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: false };
    if (type === 'bclient') return this.open('bull-blocking', bullOptions);
    this.sharedBull ??= {
      client: this.open('bull-client', bullOptions),
      subscriber: this.open('bull-subscriber', bullOptions),
    };
    return type === 'client' ? this.sharedBull.client : this.sharedBull.subscriber;
  }

  /** A dedicated connection (for example for a test or a CLI); closed with the others. */
  open(name: string, overrides: RedisOptions = {}): Redis {
    const client = createRedisClient(this.config.redis, { connectionName: name, ...overrides });
    client.on('error', (error: Error) => this.logger.warn(`Redis (${name}): ${error.message}`));
    // Kept until shutdown even after 'end': Bull disconnects and reconnects its blocking client.
    this.opened.add(client);
    return client;
  }

  get openCount(): number {
    return this.opened.size;
  }

  async onApplicationShutdown(): Promise<void> {
    // QUIT lets pending replies arrive; a client stuck in a blocking command or reconnecting
    // would never answer it, so each gets a moment and is then cut.
    await Promise.all([...this.opened].map((client) => quitOrDisconnect(client)));
    this.opened.clear();
  }
}

async function quitOrDisconnect(client: Redis, graceMs = 1_000): Promise<void> {
  if (client.status !== 'ready') return client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
  ]);
  clearTimeout(timer);
  client.disconnect();
}
