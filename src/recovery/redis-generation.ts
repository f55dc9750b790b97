import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config';
import { QueueName, QueueRegistry } from '../queue';

/** Why Redis may have lost jobs since the last check; undefined: it cannot have. */
export type LossSuspicion =
  | 'no generation marker (first start, FLUSHALL, or a restart without persistence)'
  | 'another Redis server is primary now (failover or restart)'
  | 'the previous recovery did not finish';

export interface GenerationCheck {
  suspicion?: LossSuspicion;
  /** Another recovery started recently and has not finished: leave it to that one. */
  recoveryInProgress?: boolean;
  /** Pass to `confirm` once PostgreSQL's owed jobs are back in Redis. */
  confirmation: { marker: string; runId: string };
}

/** A recovery that has not confirmed after this long is taken to have died with its worker. */
const RECOVERY_STALE_MS = 5 * 60_000;

/** Sets the marker to the server's run ID only if nothing replaced or removed it meanwhile. */
const CONFIRM_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/**
 * Tells whether the Redis the queues use may have lost writes since it was last looked at.
 * A marker key holds the `run_id` of the server that was primary at the last check. A new
 * `run_id` means another process serves now (a promoted replica, a restart: the last writes
 * may be gone); a missing marker means the data set was emptied (FLUSHALL, a restart without
 * persistence). While a recovery runs the marker holds a one-off value, and only a recovery
 * that finds it unchanged may confirm: a flush or a failover during the recovery is not missed.
 */
@Injectable()
export class RedisGeneration {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
  ) {}

  async check(): Promise<GenerationCheck> {
    const client = this.client();
    const [marker, runId] = await Promise.all([client.get(this.key), this.runId(client)]);
    if (marker === runId) return { confirmation: { marker, runId } };
    const recoveringSince = marker?.startsWith('recovering:') ? Number(marker.split(':')[1]) : NaN;
    if (Date.now() - recoveringSince < RECOVERY_STALE_MS) {
      return { recoveryInProgress: true, confirmation: { marker: marker!, runId } };
    }
    const recovering = `recovering:${Date.now()}:${randomUUID()}`;
    await client.set(this.key, recovering);
    const suspicion: LossSuspicion =
      marker === null
        ? 'no generation marker (first start, FLUSHALL, or a restart without persistence)'
        : Number.isFinite(recoveringSince)
          ? 'the previous recovery did not finish'
          : 'another Redis server is primary now (failover or restart)';
    return { suspicion, confirmation: { marker: recovering, runId } };
  }

  /** Records that the jobs owed at the time of `check` are in Redis; false if Redis changed meanwhile. */
  async confirm({ marker, runId }: GenerationCheck['confirmation']): Promise<boolean> {
    if (marker === runId) return true;
    const client = this.client();
    const [confirmed, runIdNow] = await Promise.all([
      client.eval(CONFIRM_SCRIPT, 1, this.key, marker, runId),
      this.runId(client),
    ]);
    return confirmed === 1 && runIdNow === runId;
  }

  private get key(): string {
    return `${this.config.redis.prefix}:redis-generation`;
  }

  /** Bull's command connection: with Sentinel, always the current primary. */
  private client(): Redis {
    return this.queues.get(QueueName.Payouts).client as unknown as Redis;
  }

  private async runId(client: Redis): Promise<string> {
    const info = await client.info('server');
    const runId = /^run_id:(\w+)/m.exec(info)?.[1];
    if (!runId) throw new Error('Redis INFO server has no run_id');
    return runId;
  }
}
