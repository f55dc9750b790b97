/**
 * Thrown by a handler that knows when a retry can succeed (another worker's lease ends then):
 * the next attempt waits `retryAfterMs` instead of the exponential backoff.
 */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/** Bull's backoff strategy name for every job: exponential, unless the error says when. */
export const BACKOFF_STRATEGY = 'exponential-or-retry-after';

export function backoffDelay(
  attemptsMade: number,
  error: unknown,
  options: { delay: number },
): number {
  if (error instanceof RetryLaterError) return Math.max(0, Math.round(error.retryAfterMs));
  return Math.round((2 ** attemptsMade - 1) * options.delay);
}
