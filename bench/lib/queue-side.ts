import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { cpuMicros, ParentChannel } from './child-side';
import { WorkerProbe } from './worker-probe';

/** How one side (the project or bare Bull) adds jobs; everything around it is shared. */
export interface QueueSide {
  /** The queue the benchmark jobs go to (`payouts`). */
  queue: Queue;
  /** Adds one job and returns its ID once Redis has it. */
  addOne(payoutId: string): Promise<string>;
  /** Adds these jobs in one call. */
  addMany(payoutIds: string[]): Promise<void>;
  /** Runs a producer loop in the context real code runs in (the project: a CLS context). */
  inContext<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const FILL_CHUNK = 1_000;

/**
 * Serves the orchestrator's commands for one side, with the same loops for both sides so that
 * only the side's own add/process code differs:
 *   fill     pause the queue (globally) and add N jobs in bulk, untimed;
 *   resume   resume it: the workers start on the filled queue; answers with the start time;
 *   enqueue  timed: N jobs one by one (awaited in sequence) or in bulk calls of `chunk`;
 *   trickle  N jobs, one every `intervalMs`, answering when each add resolved (pickup latency).
 */
export function serveQueueSide(side: QueueSide, channel: ParentChannel, probe?: WorkerProbe): void {
  probe?.attach(side.queue);
  channel
    .onStop(() => side.close())
    .on('fill', async ({ count }) => {
      await side.queue.pause();
      const ids = payoutIds(Number(count));
      for (let i = 0; i < ids.length; i += FILL_CHUNK)
        await side.addMany(ids.slice(i, i + FILL_CHUNK));
      return { type: 'filled' };
    })
    .on('resume', async () => {
      const startNs = process.hrtime.bigint();
      await side.queue.resume();
      return { type: 'resumed', startNs: startNs.toString() };
    })
    .on('enqueue', async ({ mode, count, chunk }) => {
      const ids = payoutIds(Number(count));
      const cpuAtStart = cpuMicros();
      const startNs = process.hrtime.bigint();
      await side.inContext(async () => {
        if (mode === 'bulk') {
          for (let i = 0; i < ids.length; i += Number(chunk))
            await side.addMany(ids.slice(i, i + Number(chunk)));
        } else {
          for (const id of ids) await side.addOne(id);
        }
      });
      return {
        type: 'enqueued',
        elapsedNs: (process.hrtime.bigint() - startNs).toString(),
        cpuUs: cpuMicros() - cpuAtStart,
      };
    })
    .on('trickle', async ({ count, intervalMs }) => {
      const resolved = await side.inContext(() => trickle(side, Number(count), Number(intervalMs)));
      return { type: 'trickled', resolved };
    });
}

async function trickle(side: QueueSide, count: number, intervalMs: number): Promise<string[][]> {
  const resolved: string[][] = [];
  const ids = payoutIds(count);
  const startNs = process.hrtime.bigint();
  const intervalNs = BigInt(Math.round(intervalMs * 1e6));
  for (let i = 0; i < count; i++) {
    // Each add is due at start + i * interval, whatever the previous one cost (no drift).
    const dueNs = startNs + BigInt(i) * intervalNs;
    const waitMs = Number(dueNs - process.hrtime.bigint()) / 1e6;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const jobId = await side.addOne(ids[i]);
    resolved.push([jobId, process.hrtime.bigint().toString()]);
  }
  return resolved;
}

function payoutIds(count: number): string[] {
  return Array.from({ length: count }, () => randomUUID());
}
