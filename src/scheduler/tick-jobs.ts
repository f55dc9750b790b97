import { Injectable } from '@nestjs/common';
import { JobProducer, QUEUE_NAMES, QueueRegistry, ScheduleTrigger } from '../queue';
import type { Schedule } from './schedule.definitions';
import { tickCorrelationId } from './scheduled-tick';

/**
 * The Bull job ID of one tick of a schedule. Every instance derives the same ID for the same
 * tick, and Bull ignores an add whose job ID exists, so instances adding a tick at once create
 * one job.
 */
export function tickJobId(schedule: string, tickAt: number): string {
  return `tick:${schedule}:${tickAt}`;
}

/**
 * The jobs that carry schedule ticks: one Bull job per tick, under tickJobId. Nothing here has
 * to survive in Redis: the schedule itself lives in code and configuration, and a lost tick job
 * is simply added again by the next worker that looks (see DistributedScheduler).
 */
@Injectable()
export class TickJobs {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly producer: JobProducer,
  ) {}

  /** Whether the tick's job is in Redis, in any state (a finished one is kept for a while). */
  async exists(schedule: Schedule, tickAt: number): Promise<boolean> {
    const job = await this.queues.get(schedule.queue).getJob(tickJobId(schedule.name, tickAt));
    return job !== null;
  }

  /**
   * Adds the tick's job unless it is in Redis already; true when it was added. Run at the tick
   * (delayed until then), or at once when the tick is due.
   */
  async ensure(schedule: Schedule, tickAt: number, trigger: ScheduleTrigger): Promise<boolean> {
    if (await this.exists(schedule, tickAt)) return false;
    await this.producer.enqueue(schedule.job, schedule.payload, {
      jobId: tickJobId(schedule.name, tickAt),
      delay: Math.max(0, tickAt - Date.now()),
      origin: `schedule ${schedule.name}`,
      correlationId: tickCorrelationId(schedule.name, tickAt),
      schedule: { name: schedule.name, trigger, tickAt },
    });
    return true;
  }

  /**
   * Removes the Bull repeatable jobs that versions before tick jobs registered (and their
   * pending job), so a tick does not also arrive from an old repeatable. A no-op once done.
   */
  async removeRepeatables(): Promise<number> {
    let removed = 0;
    for (const name of QUEUE_NAMES) {
      const queue = this.queues.get(name);
      for (const entry of await queue.getRepeatableJobs()) {
        await queue.removeRepeatableByKey(entry.key);
        removed += 1;
      }
    }
    return removed;
  }
}
