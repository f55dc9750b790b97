import { BUCKET_MS, slidingWindow } from './throughput.window';

const bucket = (completed: number, failed = 0) => ({ completed, failed });

describe('slidingWindow', () => {
  it('counts the current minute whole and the oldest bucket by the share still inside', () => {
    // 15 s into the current minute: the window of 1 minute reaches 45 s back into the previous one.
    const now = 100 * BUCKET_MS + 15_000;
    const window = slidingWindow([bucket(4, 1), bucket(8, 4)], 1, now);
    expect(window.completed).toBe(4 + 8 * 0.75);
    expect(window.failed).toBe(1 + 4 * 0.75);
    expect(window.failureRate).toBeCloseTo(4 / 14, 4);
  });

  it('answers whole numbers of jobs, the rate from the unrounded estimate', () => {
    // 20 s in: the previous minute counts for 2/3: 1 + 7 * 2/3 = 5.67 completed, 2 * 2/3 = 1.33 failed.
    const now = 100 * BUCKET_MS + 20_000;
    const window = slidingWindow([bucket(1, 0), bucket(7, 2)], 1, now);
    expect(window).toEqual({ completed: 6, failed: 1, failureRate: 0.1905 }); // 1.33 / 7
  });

  it('is exact at the start of a minute and answers null failure rate when idle', () => {
    const now = 100 * BUCKET_MS;
    expect(slidingWindow([bucket(0), bucket(6, 2)], 1, now)).toEqual({
      completed: 6,
      failed: 2,
      failureRate: 0.25,
    });
    expect(slidingWindow([bucket(0), bucket(0)], 1, now).failureRate).toBeNull();
  });

  it('sums an hour of buckets', () => {
    const buckets = Array.from({ length: 61 }, () => bucket(1));
    const window = slidingWindow(buckets, 60, 100 * BUCKET_MS + 30_000);
    expect(window.completed).toBe(61); // 60.5, rounded
  });
});
