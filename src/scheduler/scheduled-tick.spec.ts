import type { ScheduleTiming } from './schedule.definitions';
import { latestTickAtOrBefore, nextTickAfter, periodAt } from './schedule-timing';
import {
  isSuperseded,
  missedTick,
  nearestTick,
  scheduledTickOf,
  tickCorrelationId,
} from './scheduled-tick';

const at = (iso: string) => Date.parse(iso);
const hourly: ScheduleTiming = { kind: 'cron', cron: '0 * * * *', timeZone: 'UTC' };
const nightlyParis: ScheduleTiming = { kind: 'cron', cron: '15 0 * * *', timeZone: 'Europe/Paris' };
const everySecond: ScheduleTiming = { kind: 'cron', cron: '* * * * * *', timeZone: 'UTC' };
const every5m: ScheduleTiming = { kind: 'every', everyMs: 300_000 };

describe('tick arithmetic (the same as Bull: cron-parser, intervals aligned to the epoch)', () => {
  it('finds the next tick strictly after an instant', () => {
    expect(nextTickAfter(hourly, at('2026-01-01T10:00:00.000Z'))).toBe(
      at('2026-01-01T11:00:00.000Z'),
    );
    expect(nextTickAfter(hourly, at('2026-01-01T10:59:59.999Z'))).toBe(
      at('2026-01-01T11:00:00.000Z'),
    );
    expect(nextTickAfter(every5m, at('2026-01-01T10:05:00.000Z'))).toBe(
      at('2026-01-01T10:10:00.000Z'),
    );
  });

  it('finds the latest tick at or before an instant', () => {
    expect(latestTickAtOrBefore(hourly, at('2026-01-01T10:00:00.000Z'))).toBe(
      at('2026-01-01T10:00:00.000Z'),
    );
    expect(latestTickAtOrBefore(hourly, at('2026-01-01T10:59:59.999Z'))).toBe(
      at('2026-01-01T10:00:00.000Z'),
    );
    expect(latestTickAtOrBefore(everySecond, at('2026-01-01T10:00:00.400Z'))).toBe(
      at('2026-01-01T10:00:00.000Z'),
    );
    expect(latestTickAtOrBefore(every5m, at('2026-01-01T10:07:00.000Z'))).toBe(
      at('2026-01-01T10:05:00.000Z'),
    );
  });

  it('honours the time zone of a cron schedule', () => {
    // 00:15 in Paris in winter is 23:15 UTC the day before.
    expect(latestTickAtOrBefore(nightlyParis, at('2026-01-10T12:00:00Z'))).toBe(
      at('2026-01-09T23:15:00Z'),
    );
  });

  it('measures the period around an instant', () => {
    expect(periodAt(hourly, at('2026-01-01T10:30:00Z'))).toBe(3_600_000);
    expect(periodAt(every5m, at('2026-01-01T10:30:00Z'))).toBe(300_000);
  });

  it('names the nearest tick for a timer that fires a little early or late', () => {
    expect(nearestTick(everySecond, at('2026-01-01T10:00:00.998Z'))).toBe(
      at('2026-01-01T10:00:01Z'),
    );
    expect(nearestTick(everySecond, at('2026-01-01T10:00:01.030Z'))).toBe(
      at('2026-01-01T10:00:01Z'),
    );
  });
});

describe('catch-up', () => {
  const now = at('2026-01-01T12:30:00Z');

  it('runs the latest due tick once when the last run is older than it', () => {
    expect(missedTick(hourly, at('2026-01-01T10:00:00Z'), now)).toBe(at('2026-01-01T12:00:00Z'));
  });

  it('runs nothing when the latest due tick already ran', () => {
    expect(missedTick(hourly, at('2026-01-01T12:00:00Z'), now)).toBeUndefined();
  });

  it('runs nothing for a schedule that never ran (a first deploy)', () => {
    expect(missedTick(hourly, undefined, now)).toBeUndefined();
  });

  it('sees a tick job as superseded once a later tick is due', () => {
    expect(isSuperseded(hourly, at('2026-01-01T11:00:00Z'), now)).toBe(true);
    expect(isSuperseded(hourly, at('2026-01-01T12:00:00Z'), now)).toBe(false);
  });
});

describe('scheduled ticks of jobs', () => {
  it('takes a catch-up or manual run tick from its meta', () => {
    const tickAt = at('2026-01-01T10:00:00Z');
    const job = {
      data: { meta: { schedule: { name: 'x', trigger: 'manual', tickAt } } },
    };
    expect(scheduledTickOf(job)).toEqual({ name: 'x', trigger: 'manual', tickAt });
  });

  it('ignores ordinary jobs and malformed schedule meta', () => {
    expect(scheduledTickOf({ data: { meta: { origin: 'cli' } } })).toBeUndefined();
    expect(scheduledTickOf({ data: null })).toBeUndefined();
    expect(
      scheduledTickOf({
        data: { meta: { schedule: { name: 'x', trigger: 'sometimes' } } },
      }),
    ).toBeUndefined();
    expect(
      scheduledTickOf({ data: { meta: { schedule: { name: 'x', trigger: 'manual' } } } }),
    ).toBeUndefined();
  });

  it('gives each tick a readable correlation ID that is safe to echo', () => {
    expect(tickCorrelationId('payout-cycle', at('2026-01-01T10:00:00Z'))).toBe(
      'schedule:payout-cycle:2026-01-01T10:00:00.000Z',
    );
  });
});
