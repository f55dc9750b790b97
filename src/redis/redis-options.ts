import Redis, { RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config';

/**
 * The one place ioredis options are built from the settings, for every client of the app (Bull's
 * three kinds, sessions, rate limits, locks, metrics, health, the doctor):
 *   - REDIS_URL alone: that server (user, password, db, TLS from the URL);
 *   - with REDIS_SENTINELS: the primary the sentinels name under REDIS_SENTINEL_NAME, found again
 *     after a failover (ioredis asks the sentinels on every reconnect, and listens for their
 *     +switch-master); the URL's credentials, db and TLS apply to the primary.
 */
export function redisOptions(settings: RedisSettings, overrides: RedisOptions = {}): RedisOptions {
  const url = new URL(settings.url);
  const tls = url.protocol === 'rediss:' ? {} : undefined;
  const credentials = {
    username: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password) || undefined,
    db: Number(url.pathname.slice(1)) || 0,
  };
  const base: RedisOptions = {
    // Reconnect forever with a capped backoff: Redis restarts and failovers must heal by themselves.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...credentials,
  };
  const { sentinel } = settings;
  if (!sentinel) {
    return { ...base, host: url.hostname, port: Number(url.port) || 6379, tls, ...overrides };
  }
  return {
    ...base,
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    sentinelPassword: sentinel.password,
    sentinelTLS: sentinel.tls ? {} : undefined,
    // ioredis' name for "TLS to the primary it resolved through the sentinels".
    enableTLSForSentinelMode: tls !== undefined,
    tls,
    // Keep asking the sentinels while none answers (all restarting), instead of giving up.
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // Not ioredis' failoverDetector: when +switch-master arrives while the client is connecting,
    // it ends the client for good ("Connection is closed", seen in 2 of 5 failovers on ioredis
    // 5.11). A killed primary closes the socket anyway, and a reconnect asks the sentinels again.
    ...overrides,
  };
}

export function createRedisClient(settings: RedisSettings, overrides: RedisOptions = {}): Redis {
  return new Redis(redisOptions(settings, overrides));
}

/** Where the app's Redis is, for logs: no credentials. */
export function describeRedis(settings: RedisSettings): string {
  if (!settings.sentinel) return redactUrl(settings.url);
  const list = settings.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
  return `the primary "${settings.sentinel.name}" of sentinels ${list}`;
}

/** Strips credentials from a URL so it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/)([^@/]*@)/, '$1***@');
}
