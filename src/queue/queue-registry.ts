import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bull';
import { QueueName } from './queue-names';

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

  /** Which of these job IDs Redis has no job for, in any state (one round trip). */
  async missingJobIds(name: QueueName, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const queue = this.get(name);
    const pipeline = queue.client.pipeline();
    for (const id of ids) pipeline.exists(queue.toKey(id));
    const results = (await pipeline.exec()) ?? [];
    return ids.filter((_, i) => {
      const [error, exists] = results[i] ?? [new Error('no reply')];
      if (error) throw error;
      return exists === 0;
    });
  }
}
