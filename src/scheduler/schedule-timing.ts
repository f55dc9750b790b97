import { parseExpression } from 'cron-parser';
import type { ScheduleTiming } from './schedule.definitions';

/*
 * Tick arithmetic shared by both scheduler modes, on cron-parser: the library Bull itself uses
 * for repeatable jobs, so a tick computed here is the tick Bull schedules (same instant, same
 * time-zone rules), and a legacy-mode lock key names the same tick a distributed job would.
 */

/** The first tick strictly after `at` (what Bull schedules next). */
export function nextTickAfter(timing: ScheduleTiming, at: number): number {
  if (timing.kind === 'every')
    return Math.floor(at / timing.everyMs) * timing.everyMs + timing.everyMs;
  return cronAt(timing, at).next().getTime();
}

/** The latest tick at or before `at` (the tick that is "due" at that moment). */
export function latestTickAtOrBefore(timing: ScheduleTiming, at: number): number {
  if (timing.kind === 'every') return Math.floor(at / timing.everyMs) * timing.everyMs;
  // cron-parser's prev() is strictly before its current date.
  return cronAt(timing, at + 1)
    .prev()
    .getTime();
}

/** Length of the period that contains `at`: from the latest due tick to the next one. */
export function periodAt(timing: ScheduleTiming, at: number): number {
  if (timing.kind === 'every') return timing.everyMs;
  return nextTickAfter(timing, at) - latestTickAtOrBefore(timing, at);
}

export function describeTiming(timing: ScheduleTiming): string {
  return timing.kind === 'cron'
    ? `cron "${timing.cron}" (${timing.timeZone})`
    : `every ${timing.everyMs} ms`;
}

/** What is wrong with a time zone name, or undefined when the runtime knows it. */
export function timeZoneProblem(timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return 'must be an IANA time zone such as UTC or Europe/Paris';
  }
}

/**
 * What is wrong with a cron expression, or undefined when it is valid. Five fields
 * (minute hour day month weekday) or six (seconds first); it must also fire at least once.
 */
export function cronProblem(cron: string, timeZone: string): string | undefined {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `must be a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first); this one has ${fields}`;
  }
  try {
    cronAt({ kind: 'cron', cron, timeZone }, Date.now()).next();
    return undefined;
  } catch (error) {
    return `must be a valid cron expression (${(error as Error).message})`;
  }
}

function cronAt(timing: Extract<ScheduleTiming, { kind: 'cron' }>, at: number) {
  return parseExpression(timing.cron, { currentDate: new Date(at), tz: timing.timeZone });
}

/**
 * The ticks strictly after `after` and due at `upTo`, oldest first: at most the latest `max` of
 * them (walked backwards from the latest due one, so a long gap costs `max` steps, not its length).
 */
export function ticksBetween(
  timing: ScheduleTiming,
  after: number,
  upTo: number,
  max: number,
): number[] {
  const ticks: number[] = [];
  for (
    let tick = latestTickAtOrBefore(timing, upTo);
    tick > after && ticks.length < max;
    tick = latestTickAtOrBefore(timing, tick - 1)
  ) {
    ticks.unshift(tick);
  }
  return ticks;
}
