import { IsOptional, Length, Matches } from 'class-validator';
import { EnvBoolean } from './decorators';

export class RedisEnv {
  /**
   * redis://[user:password@]host:port[/db]; rediss:// for TLS. Shared by queues, sessions and
   * locks. With REDIS_SENTINELS, only its user, password, db and TLS are used (the sentinels
   * name the primary's host and port).
   */
  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Key prefix of every Bull key; use a {hash-tag} such as {bull} on Redis Cluster. */
  @Matches(/^[\w{}:.-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits, {}:.-_' })
  QUEUE_PREFIX = 'bull';

  /** Redis Sentinel: host:port of each sentinel, comma-separated (empty: REDIS_URL names the server). */
  @IsOptional()
  @Matches(/^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/, {
    message: 'must be host:port pairs separated by commas, such as 10.0.0.1:26379,10.0.0.2:26379',
  })
  REDIS_SENTINELS?: string;

  /** The primary's name in the sentinels' configuration (`sentinel monitor <name> ...`). */
  @Matches(/^[\w.-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits, .-_' })
  REDIS_SENTINEL_NAME = 'mymaster';

  /** Password of the sentinels themselves (`requirepass` in sentinel.conf), if any. */
  @IsOptional()
  @Length(1, 512)
  REDIS_SENTINEL_PASSWORD?: string;

  /** Connect to the sentinels over TLS (the data nodes use TLS when REDIS_URL is rediss://). */
  @EnvBoolean()
  REDIS_SENTINEL_TLS = false;
}
