import { Injectable, NotFoundException } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { isQueueName, QUEUE_NAMES, QueueName } from '../queue';
import { QueueRegistry } from '../queue/queue-registry';

/** Turns route parameters into a queue or a job, or the 404 that names what exists. */
@Injectable()
export class QueueLocator {
  constructor(private readonly queues: QueueRegistry) {}

  queue(name: string): { name: QueueName; queue: Queue } {
    if (!isQueueName(name)) {
      throw new NotFoundException(`Unknown queue "${name}": use one of ${QUEUE_NAMES.join(', ')}`);
    }
    return { name, queue: this.queues.get(name) };
  }

  async job(name: string, id: string): Promise<{ name: QueueName; queue: Queue; job: Job }> {
    const located = this.queue(name);
    const job = await located.queue.getJob(id);
    if (!job)
      throw new NotFoundException(`No job "${id}" in queue "${name}" (it may have been removed)`);
    return { ...located, job };
  }
}
