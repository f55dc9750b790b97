import { ConfigError } from '../config';
import type { ConfigProblem } from '../config/config-error';
import { parseDuration } from '../config/duration';
import type { ScheduleDefinition, ScheduleTiming } from './schedule.definitions';
import { cronProblem, timeZoneProblem } from './schedule-timing';

const FIELDS = ['CRON', 'EVERY', 'TZ', 'ENABLED', 'CATCH_UP'] as const;
type Field = (typeof FIELDS)[number];

/** Shortest interval a schedule may have (Bull's repeat granularity is the millisecond, but a tick is real work). */
export const MIN_EVERY_MS = 1_000;

/** `payout-cycle` -> `SCHEDULE_PAYOUT_CYCLE_`. */
export function variablePrefix(scheduleName: string): string {
  return `SCHEDULE_${scheduleName.toUpperCase().replace(/-/g, '_')}_`;
}

/**
 * Applies SCHEDULE_<NAME>_{CRON,EVERY,TZ,ENABLED,CATCH_UP} from the environment to the declared
 * schedules and validates the result, defaults included. Every problem is collected into one
 * ConfigError that stops start-up: a bad cron, a typo in a variable name (an unknown
 * SCHEDULE_* variable) or a contradiction (both CRON and EVERY) is never silently ignored.
 */
export function applyOverrides(
  definitions: readonly ScheduleDefinition[],
  env: Readonly<Record<string, string | undefined>>,
): ScheduleDefinition[] {
  const problems: ConfigProblem[] = [];
  const known = new Set<string>();
  const names = new Set<string>();

  const resolved = definitions.map((definition) => {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(definition.name) || names.has(definition.name)) {
      throw new Error(
        `Schedule name "${definition.name}" must be unique, lowercase words joined by "-"`,
      );
    }
    names.add(definition.name);
    const read = (field: Field) => {
      const variable = `${variablePrefix(definition.name)}${field}`;
      known.add(variable);
      const value = env[variable];
      return { variable, value: value === '' ? undefined : value };
    };
    const problem = (variable: string, expected: string, value: string | undefined) =>
      problems.push({
        variable,
        expected,
        got: value === undefined ? 'nothing' : JSON.stringify(value),
      });

    const cron = read('CRON');
    const every = read('EVERY');
    const tz = read('TZ');
    const enabled = read('ENABLED');
    const catchUp = read('CATCH_UP');

    let timing: ScheduleTiming = definition.timing;
    if (cron.value !== undefined && every.value !== undefined) {
      problem(
        cron.variable,
        `cannot be set together with ${every.variable} (pick one)`,
        cron.value,
      );
    } else if (cron.value !== undefined) {
      timing = { kind: 'cron', cron: cron.value.trim(), timeZone: 'UTC' };
    } else if (every.value !== undefined) {
      const everyMs = parseDuration(every.value);
      if (everyMs === undefined || everyMs < MIN_EVERY_MS) {
        problem(
          every.variable,
          'must be a duration of at least 1s, such as 30s, 15m or 1h',
          every.value,
        );
      } else {
        timing = { kind: 'every', everyMs };
      }
    }
    if (tz.value !== undefined) {
      if (timing.kind !== 'cron') {
        problem(
          tz.variable,
          'applies to cron schedules only (this one runs at an interval)',
          tz.value,
        );
      } else {
        timing = { ...timing, timeZone: tz.value };
      }
    } else if (timing.kind === 'cron' && definition.timing.kind === 'cron') {
      timing = { ...timing, timeZone: definition.timing.timeZone };
    }
    if (timing.kind === 'cron') {
      const zoneProblem = timeZoneProblem(timing.timeZone);
      if (zoneProblem) {
        problem(tz.variable, zoneProblem, timing.timeZone);
      } else {
        const expressionProblem = cronProblem(timing.cron, timing.timeZone);
        if (expressionProblem) problem(cron.variable, expressionProblem, timing.cron);
      }
    } else if (timing.everyMs < MIN_EVERY_MS) {
      problem(every.variable, 'must be at least 1s', String(timing.everyMs));
    }

    return {
      ...definition,
      timing,
      enabled: readBoolean(enabled, definition.enabled, problem),
      catchUp: readBoolean(catchUp, definition.catchUp, problem),
    };
  });

  const unknown = Object.keys(env)
    .filter((variable) => variable.startsWith('SCHEDULE_') && !known.has(variable))
    .sort();
  for (const variable of unknown) {
    problems.push({
      variable,
      expected:
        `is not a schedule setting: use SCHEDULE_<NAME>_{${FIELDS.join(',')}} with <NAME> one of ` +
        [...names].map((name) => variablePrefix(name).slice('SCHEDULE_'.length, -1)).join(', '),
      got: JSON.stringify(env[variable] ?? ''),
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

function readBoolean(
  { variable, value }: { variable: string; value: string | undefined },
  fallback: boolean,
  problem: (variable: string, expected: string, value: string | undefined) => void,
): boolean {
  if (value === undefined) return fallback;
  const word = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  problem(variable, 'must be true or false', value);
  return fallback;
}
