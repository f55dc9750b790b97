import Redis from 'ioredis';
import type { RedisSettings } from '../config';
import { createRedisClient } from './redis-options';

export interface RedisReport {
  reachable: boolean;
  version?: string;
  evictionPolicy?: string;
  /** host:port of the primary, as the sentinels name it (Sentinel deployments only). */
  primary?: string;
  /** The primary's replicas (INFO replication): `host:port (state)`. */
  replicas?: string[];
  error?: string;
}

/** Reachability, version, eviction policy and replication, for start-up and the doctor. */
export async function inspectRedis(
  settings: RedisSettings,
  timeoutMs = 5_000,
): Promise<RedisReport> {
  const client: Redis = createRedisClient(settings, {
    connectionName: 'preflight',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => (lastError = error));
  try {
    await client.connect();
    const server = parseInfo(await client.info('server'));
    const memory = parseInfo(await client.info('memory'));
    const replication = parseInfo(await client.info('replication'));
    return {
      reachable: true,
      version: server.redis_version,
      evictionPolicy: memory.maxmemory_policy,
      primary: settings.sentinel ? await sentinelPrimary(settings, timeoutMs) : undefined,
      replicas: replicasOf(replication),
    };
  } catch (error) {
    // ioredis reports "Connection is closed"; the socket error says why.
    return { reachable: false, error: (lastError ?? (error as Error)).message };
  } finally {
    client.disconnect();
  }
}

/** The primary's address as the first sentinel that answers names it. */
async function sentinelPrimary(settings: RedisSettings, timeoutMs: number): Promise<string> {
  const sentinel = settings.sentinel!;
  for (const { host, port } of sentinel.sentinels) {
    const client = new Redis({
      host,
      port,
      password: sentinel.password,
      tls: sentinel.tls ? {} : undefined,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
      connectionName: 'preflight-sentinel',
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', sentinel.name)) as
        | string[]
        | null;
      if (reply) return `${reply[0]}:${reply[1]}`;
    } catch {
      // The next sentinel may answer.
    } finally {
      client.disconnect();
    }
  }
  return 'unknown (no sentinel answered)';
}

/** `slave0:ip=10.0.0.2,port=6379,state=online,...` lines of INFO replication. */
function replicasOf(replication: Record<string, string>): string[] {
  return Object.entries(replication)
    .filter(([key]) => /^slave\d+$/.test(key))
    .map(([, value]) => {
      const fields = Object.fromEntries(value.split(',').map((pair) => pair.split('=')));
      return `${fields.ip}:${fields.port} (${fields.state})`;
    });
}

export function parseInfo(info: string): Record<string, string> {
  return Object.fromEntries(
    info
      .split(/\r?\n/)
      .filter((line) => line && !line.startsWith('#') && line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

export { redactUrl } from './redis-options';
