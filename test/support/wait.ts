import type { Job, Queue } from 'bull';

/** Polls until check() returns a truthy value, or fails with the message after the deadline. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  {
    timeoutMs = 15_000,
    intervalMs = 50,
    message = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the job is completed or failed, and returns it as it is then. */
export async function finishedJob(queue: Queue, id: string, timeoutMs = 20_000): Promise<Job> {
  return waitUntil(
    async () => {
      const state = await (await queue.getJob(id))?.getState();
      // Read the job again once it is finished: a copy read while active is stale.
      return state === 'completed' || state === 'failed' ? queue.getJob(id) : undefined;
    },
    { timeoutMs, message: `job ${id} to finish` },
  );
}
