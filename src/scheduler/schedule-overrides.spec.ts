import { ConfigError, loadConfig } from '../config';
import { declareSchedules, ScheduleDefinition } from './schedule.definitions';
import { applyOverrides, variablePrefix } from './schedule-overrides';

const declared = declareSchedules(loadConfig({ QUEUE_CLEANUP_INTERVAL: '1h' }));

function resolve(env: Record<string, string>): ScheduleDefinition[] {
  return applyOverrides(declared, env);
}

function byName(schedules: ScheduleDefinition[], name: string): ScheduleDefinition {
  const found = schedules.find((s) => s.name === name);
  if (!found) throw new Error(`no schedule ${name}`);
  return found;
}

function problems(env: Record<string, string>): string {
  try {
    resolve(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('schedule overrides from the environment', () => {
  it('declares the five schedules, valid as they are', () => {
    const schedules = resolve({});
    expect(schedules.map((s) => [s.name, s.job, s.enabled])).toEqual([
      ['payout-cycle', 'payout.cycle', true],
      ['payout-reconcile', 'payout.reconcile', true],
      ['analytics-daily-stats', 'analytics.daily-stats', true],
      ['queue-cleanup', 'maintenance.queue-cleanup', true],
      ['redis-loss-check', 'maintenance.redis-loss-check', true],
    ]);
    expect(byName(schedules, 'payout-cycle').payload).toEqual({ trigger: 'schedule' });
    expect(byName(schedules, 'queue-cleanup').timing).toEqual({
      kind: 'every',
      everyMs: 3_600_000,
    });
  });

  it('names variables after the schedule', () => {
    expect(variablePrefix('analytics-daily-stats')).toBe('SCHEDULE_ANALYTICS_DAILY_STATS_');
  });

  it('overrides cron, time zone, enabled and catch-up', () => {
    const schedules = resolve({
      SCHEDULE_PAYOUT_CYCLE_CRON: '30 */2 * * *',
      SCHEDULE_PAYOUT_CYCLE_TZ: 'Europe/Paris',
      SCHEDULE_PAYOUT_CYCLE_ENABLED: 'false',
      SCHEDULE_PAYOUT_RECONCILE_CATCH_UP: 'no',
    });
    expect(byName(schedules, 'payout-cycle')).toMatchObject({
      timing: { kind: 'cron', cron: '30 */2 * * *', timeZone: 'Europe/Paris' },
      enabled: false,
    });
    expect(byName(schedules, 'payout-reconcile').catchUp).toBe(false);
    // Untouched schedules keep their declaration.
    expect(byName(schedules, 'analytics-daily-stats')).toEqual(
      declared.find((s) => s.name === 'analytics-daily-stats'),
    );
  });

  it('turns an interval schedule into a cron one and back', () => {
    const cron = resolve({ SCHEDULE_QUEUE_CLEANUP_CRON: '* * * * * *' });
    expect(byName(cron, 'queue-cleanup').timing).toEqual({
      kind: 'cron',
      cron: '* * * * * *',
      timeZone: 'UTC',
    });
    const every = resolve({ SCHEDULE_PAYOUT_CYCLE_EVERY: '1s' });
    expect(byName(every, 'payout-cycle').timing).toEqual({ kind: 'every', everyMs: 1_000 });
  });

  it.each([
    ['SCHEDULE_PAYOUT_CYCLE_CRON', '61 * * * *', 'must be a valid cron expression'],
    ['SCHEDULE_PAYOUT_CYCLE_CRON', 'hourly', 'must be a cron expression of 5 fields'],
    ['SCHEDULE_PAYOUT_CYCLE_CRON', '* * * *', 'must be a cron expression of 5 fields'],
    ['SCHEDULE_PAYOUT_CYCLE_CRON', '0 0 31 2 *', 'must be a valid cron expression'],
    ['SCHEDULE_PAYOUT_CYCLE_TZ', 'Mars/Olympus', 'must be an IANA time zone'],
    ['SCHEDULE_QUEUE_CLEANUP_EVERY', '500ms', 'must be a duration of at least 1s'],
    ['SCHEDULE_QUEUE_CLEANUP_EVERY', 'often', 'must be a duration of at least 1s'],
    ['SCHEDULE_QUEUE_CLEANUP_TZ', 'UTC', 'applies to cron schedules only'],
    ['SCHEDULE_PAYOUT_CYCLE_ENABLED', 'maybe', 'must be true or false'],
    ['SCHEDULE_PAYOUT_CYCLES_CRON', '0 * * * *', 'is not a schedule setting'],
    ['SCHEDULE_PAYOUT_CYCLE_INTERVAL', '5m', 'is not a schedule setting'],
  ])('refuses %s=%j, naming it and what it must be', (variable, value, expected) => {
    const message = problems({ [variable]: value });
    expect(message).toContain(`- ${variable}: ${expected}`);
    expect(message).toContain(JSON.stringify(value));
  });

  it('refuses CRON and EVERY together, and lists every problem at once', () => {
    const message = problems({
      SCHEDULE_PAYOUT_CYCLE_CRON: '0 * * * *',
      SCHEDULE_PAYOUT_CYCLE_EVERY: '1h',
      SCHEDULE_PAYOUT_RECONCILE_CRON: 'nope',
    });
    expect(message).toMatch(/Invalid configuration \(2 problems\)/);
    expect(message).toContain('SCHEDULE_PAYOUT_CYCLE_CRON: cannot be set together with');
    expect(message).toContain('SCHEDULE_PAYOUT_RECONCILE_CRON: must be a cron expression');
  });

  it('lists the schedule names when a variable names none', () => {
    expect(problems({ SCHEDULE_NIGHTLY_CRON: '0 0 * * *' })).toContain(
      'PAYOUT_CYCLE, PAYOUT_RECONCILE, ANALYTICS_DAILY_STATS, QUEUE_CLEANUP',
    );
  });
});
