import 'reflect-metadata';
import { JobName, QueueName } from '../queue';
import {
  isRepeatableOf,
  planRepeatables,
  RepeatableEntry,
  repeatableJobId,
  scheduleNameOf,
} from './repeatable-jobs';
import type { Schedule } from './schedule.definitions';

const cycle: Schedule = {
  name: 'payout-cycle',
  description: '',
  job: JobName.PayoutCycle,
  payload: { trigger: 'schedule' },
  timing: { kind: 'cron', cron: '0 * * * *', timeZone: 'UTC' },
  enabled: true,
  catchUp: true,
  queue: QueueName.Payouts,
};
const cleanup: Schedule = {
  name: 'queue-cleanup',
  description: '',
  job: JobName.QueueCleanup,
  payload: { trigger: 'schedule' },
  timing: { kind: 'every', everyMs: 3_600_000 },
  enabled: true,
  catchUp: true,
  queue: QueueName.Analytics,
};

function entry(overrides: Partial<RepeatableEntry>): RepeatableEntry {
  return {
    queue: QueueName.Payouts,
    key: 'k',
    name: JobName.PayoutCycle,
    id: repeatableJobId(cycle),
    endDate: null,
    tz: 'UTC',
    cron: '0 * * * *',
    every: null,
    next: 0,
    ...overrides,
  };
}

describe('planning repeatable jobs', () => {
  it('matches a repeatable on queue, job, schedule name and timing', () => {
    expect(isRepeatableOf(cycle, entry({}))).toBe(true);
    expect(isRepeatableOf(cycle, entry({ cron: '*/30 * * * *' }))).toBe(false);
    expect(isRepeatableOf(cycle, entry({ tz: 'Europe/Paris' }))).toBe(false);
    expect(isRepeatableOf(cycle, entry({ id: 'payout-cycle-old' }))).toBe(false);
    // Same name, another payload: a different repeatable (the chain copies its data forward).
    const manual = repeatableJobId({ ...cycle, payload: { trigger: 'manual' } });
    expect(isRepeatableOf(cycle, entry({ id: manual }))).toBe(false);
    expect(isRepeatableOf(cycle, entry({ queue: QueueName.Analytics }))).toBe(false);
    const every = entry({
      queue: QueueName.Analytics,
      name: JobName.QueueCleanup,
      id: repeatableJobId(cleanup),
      tz: null,
      cron: null,
      every: 3_600_000,
    });
    expect(isRepeatableOf(cleanup, every)).toBe(true);
    expect(isRepeatableOf(cleanup, { ...every, every: 60_000 })).toBe(false);
  });

  it('removes what is no longer declared or has another cron, and reports what is missing', () => {
    const oldCron = entry({ key: 'old', cron: '30 * * * *' });
    const removed = entry({ key: 'gone', id: 'retired-schedule~0a1b2c3d' });
    const plan = planRepeatables([cycle, cleanup], [oldCron, removed]);
    expect(plan.remove.map((e) => e.key)).toEqual(['old', 'gone']);
    expect(plan.missing).toEqual([cycle, cleanup]);
    expect(plan.present).toEqual([]);
  });

  it('keeps a repeatable that is already right', () => {
    const plan = planRepeatables([cycle], [entry({ key: 'current' })]);
    expect(plan).toEqual({ remove: [], missing: [], present: [cycle] });
  });

  it('names the repeatable after the schedule and a digest of its payload', () => {
    expect(repeatableJobId(cycle)).toMatch(/^payout-cycle~[0-9a-f]{8}$/);
    expect(scheduleNameOf({ id: repeatableJobId(cycle) })).toBe('payout-cycle');
    expect(scheduleNameOf({ id: null })).toBeUndefined();
  });

  it('removes everything when nothing is desired (legacy mode, or all disabled)', () => {
    expect(planRepeatables([], [entry({})]).remove).toHaveLength(1);
  });
});
