import type { Logger } from '@nestjs/common';

/** Rejects when the promise has not settled within `ms`: a scrape must not wait on a stuck store. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One read of a store per scrape, shared by the gauges that collect concurrently. Undefined
 * when the store fails or does not answer within `timeoutMs` (logged when a logger is given):
 * the gauges then leave their series out rather than report stale values.
 */
export function scrapeRead<T>(
  read: () => Promise<T>,
  options: { timeoutMs: number; logger?: Logger; failure?: string },
): () => Promise<T | undefined> {
  let pending: Promise<T | undefined> | undefined;
  return () => {
    pending ??= withTimeout(read(), options.timeoutMs)
      .catch((error: Error) => {
        options.logger?.warn(`${options.failure}: ${error.message}`);
        return undefined;
      })
      .finally(() => (pending = undefined));
    return pending;
  };
}
