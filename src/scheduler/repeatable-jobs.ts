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

/** A present repeatable whose chain was cut (see RepeatableJobs.findCutChains). */
export interface CutChain {
  schedule: Schedule;
  /** The last tick Bull scheduled: taken by a worker that died before scheduling the next. */
  lastScheduled: number;
}

/** What sync() found and did. */
export interface RepeatableSync extends RepeatablePlan {
  /** Present repeatables whose chain was cut; re-adding restarted them from the next tick on. */
  cut: CutChain[];
  /** Just before the repeatables were (re-)added: every tick Bull schedules from now is later. */
  addedAt: number;
}

/**
 * How long the tick after a chain's last scheduled one must have been due before the chain is
 * taken as cut: a live worker schedules the next tick within milliseconds of taking one.
 */
const CUT_GRACE_MS = 2_000;

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
    const cut = await this.findCutChains(plan.present, now, existing);
    await this.remove(plan.remove);
    const addedAt = Date.now();
    for (const schedule of desired) await this.add(schedule);
    return { ...plan, cut, addedAt };
  }

  /** Adds (or re-adds: idempotent) the schedule's repeatable; its next job is the next tick. */
  async add(schedule: Schedule): Promise<void> {
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

  /**
   * Bull schedules a repeatable's next tick only after a worker took the current one, in a
   * second round trip: a worker that dies between the two leaves the chain with no job for any
   * later tick (the taken one is rerun once its lock lapses, and Bull then schedules from that
   * moment on: the ticks in between are never run). Seen from here: the tick after the last one
   * Bull scheduled (`next`) has been due for CUT_GRACE_MS, and the last one's job is no longer
   * waiting to run. A chain that merely waited through an outage still has that job waiting.
   */
  async findCutChains(
    schedules: readonly Schedule[],
    now = Date.now(),
    existing?: readonly RepeatableEntry[],
  ): Promise<CutChain[]> {
    const entries = existing ?? (await this.list());
    const cut: CutChain[] = [];
    for (const schedule of schedules) {
      const entry = entries.find((e) => isRepeatableOf(schedule, e));
      if (!entry || entry.next >= latestTickAtOrBefore(schedule.timing, now - CUT_GRACE_MS)) {
        continue;
      }
      const job = await this.queues.get(entry.queue).getJob(repeatTickJobId(entry, entry.next));
      const state = job ? await job.getState() : 'missing';
      if (!['delayed', 'waiting', 'paused'].includes(state)) {
        cut.push({ schedule, lastScheduled: entry.next });
      }
    }
    return cut;
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
