import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueRegistry } from './queue-registry';

/**
 * Closes every queue before anything else shuts down: a queue that processes jobs stops taking
 * new ones and waits for its active jobs, bounded by SHUTDOWN_TIMEOUT. Redis and the database
 * close later (onApplicationShutdown), so finishing jobs can still use them.
 */
@Injectable()
export class QueueLifecycle implements BeforeApplicationShutdown {
  private readonly logger = new Logger(QueueLifecycle.name);

  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    const queues = this.queues.all();
    const closing = Promise.all(queues.map((queue) => queue.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs);
    });
    const outcome = await Promise.race([closing.then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(
        `Active jobs did not finish within SHUTDOWN_TIMEOUT (${this.config.shutdownTimeoutMs} ms); ` +
          'they will be picked up again by another worker once their lock expires.',
      );
      await Promise.all(queues.map((queue) => queue.close(true).catch(() => undefined)));
    }
  }
}
