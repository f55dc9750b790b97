import type { Queue } from 'bull';
import { loadConfig } from '../config';
import { retentionMayHaveTrimmed } from './trail-retention';

/** A queue whose completed set holds `kept` jobs, the oldest finished at `oldest` (ms). */
const queueWith = (kept: number, oldest: number) =>
  ({
    toKey: (state: string) => `bull:q:${state}`,
    client: {
      zcard: async () => kept,
      zrange: async () => (kept > 0 ? ['job-1', String(oldest)] : []),
    },
  }) as unknown as Queue;

describe('retentionMayHaveTrimmed', () => {
  const config = loadConfig({ COMPLETED_JOB_RETENTION: '100', FAILED_JOB_RETENTION: '1d' });
  const now = Date.parse('2026-11-30T12:00:00Z');
  const hourAgo = now - 3_600_000;

  it('is false while no queue has reached its retention', async () => {
    expect(await retentionMayHaveTrimmed([queueWith(99, now)], hourAgo, config, now)).toBe(false);
  });

  it('is true when a queue at its cap kept nothing older than the trail', async () => {
    expect(
      await retentionMayHaveTrimmed([queueWith(100, now - 60_000)], hourAgo, config, now),
    ).toBe(true);
  });

  it('is false when a queue at its cap still keeps jobs from before the trail', async () => {
    expect(await retentionMayHaveTrimmed([queueWith(100, hourAgo - 1)], hourAgo, config, now)).toBe(
      false,
    );
  });

  it('is true for a trail older than the failed-job retention, and for an empty trail at the cap', async () => {
    expect(
      await retentionMayHaveTrimmed([queueWith(0, 0)], now - 2 * 86_400_000, config, now),
    ).toBe(true);
    expect(await retentionMayHaveTrimmed([queueWith(100, now)], undefined, config, now)).toBe(true);
    expect(await retentionMayHaveTrimmed([queueWith(5, now)], undefined, config, now)).toBe(false);
  });
});
