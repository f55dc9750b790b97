import { hostname } from 'node:os';
import { JobMeta, ScheduleTrigger } from '../queue';
import type { ScheduleTiming } from './schedule.definitions';
import { latestTickAtOrBefore, nextTickAfter } from './schedule-timing';

/** Names this process in schedule_runs, lock values and logs. */
export const INSTANCE_ID = `${hostname()}:${process.pid}`;

export interface ScheduledTick {
  name: string;
  trigger: ScheduleTrigger;
  tickAt: number;
}

/** The minimal job field a tick is read from (a Bull Job has it). */
interface TickSource {
  data: unknown;
}

const TRIGGERS: readonly string[] = ['schedule', 'catch-up', 'manual'];

/** The schedule tick a queued job stands for (meta.schedule), or undefined for an ordinary job. */
export function scheduledTickOf(job: TickSource): ScheduledTick | undefined {
  const schedule = (job.data as { meta?: Partial<JobMeta> } | null)?.meta?.schedule;
  if (!schedule || typeof schedule.name !== 'string' || !TRIGGERS.includes(schedule.trigger)) {
    return undefined;
  }
  const { tickAt } = schedule;
  if (typeof tickAt !== 'number' || !Number.isFinite(tickAt)) return undefined;
  return { name: schedule.name, trigger: schedule.trigger, tickAt };
}

/**
 * One correlation ID per tick, the same in both modes, on every instance and on every retry of
 * that tick: readable in logs, and safe to echo (letters, digits, `.:-`).
 */
export function tickCorrelationId(schedule: string, tickAt: number): string {
  return `schedule:${schedule}:${new Date(tickAt).toISOString()}`;
}

/**
 * The tick to run once at start, if any: the latest due tick, when the schedule has run before
 * and its latest run is older than that tick (a tick was missed while nothing ran it). A schedule
 * that never ran has nothing to catch up (a first deploy must not fire everything at once).
 */
export function missedTick(
  timing: ScheduleTiming,
  latestRunTickAt: number | undefined,
  now: number,
): number | undefined {
  if (latestRunTickAt === undefined) return undefined;
  const due = latestTickAtOrBefore(timing, now);
  return latestRunTickAt < due ? due : undefined;
}

/** Whether a later tick than this one is already due: the run is a missed tick, not a current one. */
export function isSuperseded(timing: ScheduleTiming, tickAt: number, now: number): boolean {
  return latestTickAtOrBefore(timing, now) > tickAt;
}

/**
 * The tick a timer firing at `at` stands for: the nearest one, so a timer firing a little early
 * or a little late still names its own tick (and the lock key every instance agrees on).
 */
export function nearestTick(timing: ScheduleTiming, at: number): number {
  const before = latestTickAtOrBefore(timing, at);
  const after = nextTickAfter(timing, at);
  return at - before <= after - at ? before : after;
}
