import { Matches } from 'class-validator';

export class RedisEnv {
  /** redis://[user:password@]host:port[/db]; rediss:// for TLS. Shared by queues, sessions and locks. */
  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Key prefix of every Bull key; use a {hash-tag} such as {bull} on Redis Cluster. */
  @Matches(/^[\w{}:.-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits, {}:.-_' })
  QUEUE_PREFIX = 'bull';
}
