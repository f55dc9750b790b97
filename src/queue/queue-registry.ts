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
}
