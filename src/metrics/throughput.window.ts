/** Finished jobs of one queue in a time window, summed over every worker process. */
export interface ThroughputWindow {
  /** Completed jobs in the window, a whole number (estimated at the window's oldest edge, see below). */
  completed: number;
  /** Jobs that failed for good (no attempts left or a permanent error) in the window; whole. */
  failed: number;
  /** failed / (completed + failed); null when nothing finished. */
  failureRate: number | null;
}

export interface MinuteCounts {
  completed: number;
  failed: number;
}

export const BUCKET_MS = 60_000;

/**
 * Sliding window over per-minute buckets (index 0 = the current, partial minute; index k = k
 * minutes ago). The window of W minutes takes buckets 0..W-1 whole and the share of bucket W
 * that still lies inside it, assuming its jobs were spread evenly: the usual sliding-window
 * estimate, exact whenever the traffic is steady and never off by more than one bucket.
 */
export function slidingWindow(
  buckets: readonly MinuteCounts[],
  minutes: number,
  now: number,
): ThroughputWindow {
  const elapsed = (now % BUCKET_MS) / BUCKET_MS;
  let completed = 0;
  let failed = 0;
  for (let k = 0; k <= minutes && k < buckets.length; k += 1) {
    const weight = k < minutes ? 1 : 1 - elapsed;
    completed += buckets[k].completed * weight;
    failed += buckets[k].failed * weight;
  }
  const total = completed + failed;
  // Counts of jobs are whole: the estimate is rounded, the rate uses it unrounded.
  return {
    completed: Math.round(completed),
    failed: Math.round(failed),
    failureRate: total > 0 ? round(failed / total, 4) : null,
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
