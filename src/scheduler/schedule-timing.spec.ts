import { ticksBetween } from './schedule-timing';

describe('ticksBetween', () => {
  const every = { kind: 'every' as const, everyMs: 1_000 };
  const hourly = { kind: 'cron' as const, cron: '0 * * * *', timeZone: 'UTC' };
  const at = (iso: string) => Date.parse(iso);

  it('lists the ticks after the first instant and due at the second, oldest first', () => {
    expect(ticksBetween(every, 10_000, 13_500, 60)).toEqual([11_000, 12_000, 13_000]);
    expect(
      ticksBetween(hourly, at('2026-11-29T09:00:00Z'), at('2026-11-29T11:59:59Z'), 60),
    ).toEqual([at('2026-11-29T10:00:00Z'), at('2026-11-29T11:00:00Z')]);
  });

  it('includes a tick due exactly at the end and never the one at the start', () => {
    expect(ticksBetween(every, 10_000, 12_000, 60)).toEqual([11_000, 12_000]);
    expect(ticksBetween(every, 12_000, 12_999, 60)).toEqual([]);
  });

  it('keeps only the latest `max` ticks of a long gap', () => {
    expect(ticksBetween(every, 0, 1_000_000, 3)).toEqual([998_000, 999_000, 1_000_000]);
  });
});
