import type { Queue } from 'bull';
import { cpuMicros, ParentChannel } from './child-side';

/**
 * What a worker child measures, identically for the project and the baseline: completions (on
 * Bull's local `completed` event, after the job is moved to completed in Redis), when the
 * measured batch started and ended, and when each handler started (pickup latency).
 * Times are process.hrtime.bigint(), CLOCK_MONOTONIC, which all processes of the machine share.
 * CPU time (process.cpuUsage) is reported too: on a shared machine it is steadier than rates.
 */
export class WorkerProbe {
  private completed = 0;
  private lastCompletedNs = 0n;
  private reported = -1;
  private readonly starts = new Map<string, bigint>();
  private timer?: NodeJS.Timeout;
  private recordStarts = false;
  private cpuAtStart = 0;

  constructor(private readonly channel: ParentChannel) {}

  /** Listens to the queue's completions and answers the orchestrator's probe messages. */
  attach(queue: Queue): void {
    queue.on('completed', () => {
      this.completed += 1;
      this.lastCompletedNs = process.hrtime.bigint();
    });
    queue.on('failed', (job, error: Error) => {
      this.channel.fail(new Error(`Job ${job.id} failed: ${error.message}`));
    });
    this.channel
      .on('measure', async (message) => {
        this.reset(Boolean(message.recordStarts));
        return { type: 'measuring' };
      })
      .on('report', async () => this.report())
      .on('starts', async () => ({
        type: 'starts',
        starts: [...this.starts].map(([id, ns]) => [id, ns.toString()]),
      }));
  }

  /** Called first thing in the handler (the project's @JobHandler or the bare Bull callback). */
  started(jobId: string | number): void {
    if (this.recordStarts) this.starts.set(String(jobId), process.hrtime.bigint());
  }

  private reset(recordStarts: boolean): void {
    this.completed = 0;
    this.reported = -1;
    this.lastCompletedNs = 0n;
    this.starts.clear();
    this.recordStarts = recordStarts;
    this.cpuAtStart = cpuMicros();
    clearInterval(this.timer);
    // Progress every 20 ms at most: cheap, and the end time comes from lastCompletedNs anyway.
    this.timer = setInterval(() => {
      if (this.completed !== this.reported) this.channel.send(this.report());
    }, 20);
    this.timer.unref();
  }

  private report() {
    this.reported = this.completed;
    return {
      type: 'progress',
      completed: this.completed,
      lastCompletedNs: this.lastCompletedNs.toString(),
      /** CPU this process used since `measure` (its Redis client work included). */
      cpuUs: cpuMicros() - this.cpuAtStart,
    };
  }
}
