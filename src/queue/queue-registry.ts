import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bull';
import { QueueName } from './queue-names';

/** 1-based indexes of the keys that hold no job (no `data`); fragments among them are deleted. */
const MISSING_JOBS_SCRIPT = `
local missing = {}
for i, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, 'data') == 0 then
    redis.call('DEL', key)
    missing[#missing + 1] = i
  end
end
return missing`;

/** The four Bull queues by name, injected once (so DI resolves them before their users). */
@Injectable()
export class QueueRegistry {
  private readonly queues: ReadonlyMap<QueueName, Queue>;

  constructor(
    @InjectQueue(QueueName.Payouts) payouts: Queue,
    @InjectQueue(QueueName.Analytics) analytics: Queue,
    @InjectQueue(QueueName.Notifications) notifications: Queue,
    @InjectQueue(QueueName.Exports) exports: Queue,
  ) {
    this.queues = new Map([
      [QueueName.Payouts, payouts],
      [QueueName.Analytics, analytics],
      [QueueName.Notifications, notifications],
      [QueueName.Exports, exports],
    ]);
  }

  get(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`Queue "${name}" is not registered in QueueModule`);
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  /**
   * Which of these job IDs Redis has no job for, in any state (one round trip). A hash without
   * `data` is no job but a fragment: a worker's script that ran after the job was lost (a flush
   * between taking a job and starting it writes `processedOn`, then its failure) re-creates the
   * key with a few fields. It is deleted here, in the same script: left, it would pass for the
   * job and make Bull ignore the add that re-creates it (same job ID). Seen in the redis-flush
   * chaos scenario: notifications never sent.
   */
  async missingJobIds(name: QueueName, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const queue = this.get(name);
    const missing = (await queue.client.eval(
      MISSING_JOBS_SCRIPT,
      ids.length,
      ...ids.map((id) => queue.toKey(id)),
    )) as number[];
    return missing.map((index) => ids[index - 1]);
  }
}
