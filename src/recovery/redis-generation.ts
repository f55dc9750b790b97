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
  /** Pass to `confirm` once PostgreSQL's owed jobs are back in Redis (or to `abandon`). */
  confirmation: { marker: string; generation: string };
}

/** A recovery that has not confirmed after this long is taken to have died with its worker. */
const RECOVERY_STALE_MS = 5 * 60_000;

/** Sets the marker to ARGV[2] only if nothing replaced or removed it meanwhile. */
const REPLACE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/**
 * Tells whether the Redis the queues use may have lost writes since it was last looked at.
 * A marker key holds the generation (`run_id` and `master_replid`) of the server that was primary
 * at the last check. A new `run_id` means another process serves now (a promoted replica, a
 * restart: the last writes may be gone); a new `master_replid` with the same `run_id` means this
 * server was a replica meanwhile and was promoted back (it took its replacement's data set, losing
 * what it had not replicated); a missing marker means the data set was emptied (FLUSHALL, a
 * restart without persistence). While a recovery runs the marker holds a one-off value, and only
 * a recovery that finds it unchanged may confirm: a flush or a failover during it is not missed.
 */
@Injectable()
export class RedisGeneration {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
  ) {}

  async check(): Promise<GenerationCheck> {
    const client = this.client();
    const [marker, generation] = await Promise.all([client.get(this.key), this.generation(client)]);
    if (marker === generation) return { confirmation: { marker, generation } };
    const recoveringSince = marker?.startsWith('recovering:') ? Number(marker.split(':')[1]) : NaN;
    // A recovery started on another server (the marker replicated before a failover) is no
    // recovery of this one: its confirm may even have been lost with that server.
    const sameServer = marker?.endsWith(`@${generation}`) ?? false;
    if (sameServer && Date.now() - recoveringSince < RECOVERY_STALE_MS) {
      return { recoveryInProgress: true, confirmation: { marker: marker!, generation } };
    }
    const recovering = `recovering:${Date.now()}:${randomUUID()}@${generation}`;
    await client.set(this.key, recovering);
    const suspicion: LossSuspicion =
      marker === null
        ? 'no generation marker (first start, FLUSHALL, or a restart without persistence)'
        : Number.isFinite(recoveringSince)
          ? 'the previous recovery did not finish'
          : 'another Redis server is primary now (failover or restart)';
    return { suspicion, confirmation: { marker: recovering, generation } };
  }

  /** Records that the jobs owed at the time of `check` are in Redis; false if Redis changed meanwhile. */
  async confirm({ marker, generation }: GenerationCheck['confirmation']): Promise<boolean> {
    if (marker === generation) return true;
    const client = this.client();
    const [confirmed, generationNow] = await Promise.all([
      client.eval(REPLACE_SCRIPT, 1, this.key, marker, generation),
      this.generation(client),
    ]);
    return confirmed === 1 && generationNow === generation;
  }

  /**
   * A recovery that failed (an error, not a crash) marks itself stale at once, so the next check
   * recovers again instead of waiting RECOVERY_STALE_MS for it.
   */
  async abandon({ marker, generation }: GenerationCheck['confirmation']): Promise<void> {
    if (marker === generation) return;
    await this.client().eval(REPLACE_SCRIPT, 1, this.key, marker, `recovering:0:${randomUUID()}`);
  }

  private get key(): string {
    return `${this.config.redis.prefix}:redis-generation`;
  }

  /** Bull's command connection: with Sentinel, always the current primary. */
  private client(): Redis {
    return this.queues.get(QueueName.Payouts).client as unknown as Redis;
  }

  /**
   * The server's generation: `run_id` (new at every start) and `master_replid` (new at every
   * promotion; a primary demoted and promoted back keeps its `run_id`).
   */
  private async generation(client: Redis): Promise<string> {
    const [server, replication] = await Promise.all([
      client.info('server'),
      client.info('replication'),
    ]);
    const runId = /^run_id:(\w+)/m.exec(server)?.[1];
    const replId = /^master_replid:(\w+)/m.exec(replication)?.[1];
    if (!runId || !replId) throw new Error('Redis INFO has no run_id or master_replid');
    return `${runId}:${replId}`;
  }
}
