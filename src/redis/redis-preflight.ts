import Redis from 'ioredis';
import { createRedisClient } from './redis-connections';

export interface RedisReport {
  reachable: boolean;
  version?: string;
  evictionPolicy?: string;
  error?: string;
}

/** Reachability, version and eviction policy, for start-up and the doctor. */
export async function inspectRedis(url: string, timeoutMs = 5_000): Promise<RedisReport> {
  const client: Redis = createRedisClient(url, {
    connectionName: 'preflight',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => (lastError = error));
  try {
    await client.connect();
    const server = parseInfo(await client.info('server'));
    const memory = parseInfo(await client.info('memory'));
    return {
      reachable: true,
      version: server.redis_version,
      evictionPolicy: memory.maxmemory_policy,
    };
  } catch (error) {
    // ioredis reports "Connection is closed"; the socket error says why.
    return { reachable: false, error: (lastError ?? (error as Error)).message };
  } finally {
    client.disconnect();
  }
}

export function parseInfo(info: string): Record<string, string> {
  return Object.fromEntries(
    info
      .split(/\r?\n/)
      .filter((line) => line && !line.startsWith('#') && line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

/** Strips credentials from a Redis URL so it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/)([^@/]*@)/, '$1***@');
}
