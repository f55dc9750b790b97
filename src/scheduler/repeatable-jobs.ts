import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { JobProducer, QUEUE_NAMES, QueueName, QueueRegistry } from '../queue';
import type { Schedule } from './schedule.definitions';
import { latestTickAtOrBefore } from './schedule-timing';

/** A Bull repeatable job as listed by queue.getRepeatableJobs(), with its queue. */
export interface RepeatableEntry {
  queue: QueueName;
  key: string;
  /** The job name. */
  name: string;
  /** The job ID given at registration (see repeatableJobId). */
  id: string | null;
  endDate: number | null;
  tz: string | null;
  cron: string | null;
  every: number | null;
  next: number;
}

export interface RepeatablePlan {
  remove: RepeatableEntry[];
  /** Desired schedules with no repeatable yet (first start, a changed cron, back from legacy). */
  missing: Schedule[];
  present: Schedule[];
}

/** What sync() found and did. */
export interface RepeatableSync extends RepeatablePlan {
  /**
   * Present repeatables whose chain was cut: no job of theirs is waiting for the latest due tick
   * or an earlier one (see chainIsCut). Re-adding restarts them from the next tick on.
   */
  cut: Schedule[];
}

/**
 * The job ID Bull gives one tick of a repeatable (lib/repeatable.js, getRepeatJobId): a digest
 * of the job name, the registration's job ID and the repeatable's key, then the tick.
 */
export function repeatTickJobId(
  entry: Pick<RepeatableEntry, 'name' | 'id' | 'key'>,
  tickAt: number,
): string {
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  return `repeat:${md5(`${entry.name}${entry.id ? `${entry.id}:` : ':'}${md5(entry.key)}`)}:${tickAt}`;
}

/**
 * The job ID a schedule's repeatable is registered under: its name and a digest of its payload.
 * Bull keys a repeatable by name, job ID and timing, and each tick's job copies the data of the
 * tick before: without the digest, a payload changed in code would never reach a running chain.
 */
export function repeatableJobId(schedule: Pick<Schedule, 'name' | 'payload'>): string {
  const digest = createHash('sha256').update(JSON.stringify(schedule.payload)).digest('hex');
  return `${schedule.name}~${digest.slice(0, 8)}`;
}

/** The schedule a repeatable was registered for, from its job ID. */
export function scheduleNameOf(entry: Pick<RepeatableEntry, 'id'>): string | undefined {
  return entry.id?.split('~')[0];
}

/** Whether this repeatable is exactly the one the schedule asks for (queue, job, name, payload, timing). */
export function isRepeatableOf(schedule: Schedule, entry: RepeatableEntry): boolean {
  if (entry.queue !== schedule.queue || entry.name !== schedule.job) return false;
  if (entry.id !== repeatableJobId(schedule) || entry.endDate) return false;
  const { timing } = schedule;
  return timing.kind === 'cron'
    ? entry.cron === timing.cron && (entry.tz ?? '') === timing.timeZone
    : !entry.cron && entry.every === timing.everyMs;
}

/**
 * Desired vs present. Every repeatable in our queues belongs to the scheduler (JobProducer.repeat
 * is the only way one is made), so whatever matches no desired schedule is stale: a schedule
 * removed, disabled, renamed, re-timed or given another payload.
 */
export function planRepeatables(
  desired: readonly Schedule[],
  existing: readonly RepeatableEntry[],
): RepeatablePlan {
  const present = desired.filter((s) => existing.some((entry) => isRepeatableOf(s, entry)));
  return {
    remove: existing.filter((entry) => !desired.some((s) => isRepeatableOf(s, entry))),
    missing: desired.filter((s) => !present.includes(s)),
    present,
  };
}

/** Bull repeatable jobs of the four queues: list, upsert, remove. */
@Injectable()
export class RepeatableJobs {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly producer: JobProducer,
  ) {}

  async list(): Promise<RepeatableEntry[]> {
    const perQueue = await Promise.all(
      QUEUE_NAMES.map(async (queue) =>
        (await this.queues.get(queue).getRepeatableJobs()).map(
          (job): RepeatableEntry => ({
            queue,
            key: job.key,
            name: job.name,
            id: job.id ?? null,
            endDate: job.endDate ?? null,
            tz: job.tz ?? null,
            cron: job.cron ?? null,
            every: job.every ?? null,
            next: job.next,
          }),
        ),
      ),
    );
    return perQueue.flat();
  }

  /**
   * Makes Redis hold exactly the desired repeatables: stale ones are removed first (so old
   * ticks never run beside new ones), then every desired one is added. Adding is idempotent
   * (same key, and each tick's job ID is derived from the key and the tick), so instances
   * syncing at once do not duplicate anything, and re-adding a present one repairs its chain
   * if its next job was lost (from the next tick on; the scheduler catches up the latest due
   * one, see `cut`).
   */
  async sync(desired: readonly Schedule[], now = Date.now()): Promise<RepeatableSync> {
    const existing = await this.list();
    const plan = planRepeatables(desired, existing);
    const cut: Schedule[] = [];
    for (const schedule of plan.present) {
      const entry = existing.find((e) => isRepeatableOf(schedule, e))!;
      if (await this.chainIsCut(schedule, entry, now)) cut.push(schedule);
    }
    await this.remove(plan.remove);
    for (const schedule of desired) {
      const { timing } = schedule;
      await this.producer.repeat(schedule.job, schedule.payload, {
        repeat:
          timing.kind === 'cron'
            ? { cron: timing.cron, tz: timing.timeZone }
            : { every: timing.everyMs },
        jobId: repeatableJobId(schedule),
        origin: `schedule ${schedule.name}`,
        schedule: { name: schedule.name, trigger: 'schedule' },
      });
    }
    return { ...plan, cut };
  }

  /**
   * Bull schedules a repeatable's next tick only after a worker took the current one, in a
   * second round trip: a worker that dies between the two leaves the chain with no job for any
   * later tick (the taken one is rerun once its lock lapses, and Bull then schedules from that
   * moment on: the ticks in between are never run). Seen from here: the last tick Bull scheduled
   * (`next`) is older than the latest due tick, and its job is no longer waiting to run. A chain
   * that merely waited through an outage still has that job delayed or waiting.
   */
  private async chainIsCut(
    schedule: Schedule,
    entry: RepeatableEntry,
    now: number,
  ): Promise<boolean> {
    if (entry.next >= latestTickAtOrBefore(schedule.timing, now)) return false;
    const job = await this.queues.get(entry.queue).getJob(repeatTickJobId(entry, entry.next));
    const state = job ? await job.getState() : 'missing';
    return !['delayed', 'waiting', 'paused'].includes(state);
  }

  /** Removes every repeatable of the four queues (legacy mode owns the ticks then). */
  async removeAll(): Promise<RepeatableEntry[]> {
    const all = await this.list();
    await this.remove(all);
    return all;
  }

  private async remove(entries: readonly RepeatableEntry[]): Promise<void> {
    // Removing also deletes the repeatable's next scheduled job; removing twice is a no-op.
    for (const entry of entries)
      await this.queues.get(entry.queue).removeRepeatableByKey(entry.key);
  }
}
