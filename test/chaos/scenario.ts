import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../support/wait';
import { ChaosCluster } from './cluster';
import { RedisDataLoss, Verdict } from './invariants';
import { LoadDriver } from './load';
import { ChaosSize } from './sizes';
import { ChaosProcess } from './support/chaos-process';
import { HostNetwork } from './support/hosts';

/** What a scenario gets: its cluster under load, the size, and where to record what it saw. */
export class ScenarioContext {
  readonly notes: string[] = [];
  readonly violations: string[] = [];
  faults = 0;
  faultEndedAt?: number;
  /** Set by scenarios that measure recovery themselves (Redis back -> API serving again). */
  recoveryMs?: number;
  /** Set by scenarios in which Redis loses data (flush, failover): see markRedisDataLoss(). */
  redisDataLoss?: RedisDataLoss;
  /** The scenario's own figures, printed in its summary line. */
  summary?: string;
  /** Extra checks once the cluster settled and the common invariants were checked. */
  afterSettle?: (verdict: Verdict) => Promise<void> | void;

  constructor(
    readonly cluster: ChaosCluster,
    readonly load: LoadDriver,
    readonly size: ChaosSize,
    readonly network: HostNetwork,
  ) {}

  note(text: string): void {
    this.notes.push(text);
  }

  /** A scenario's own invariant (beyond the common ones) that did not hold. */
  expect(condition: boolean, violation: string): void {
    if (!condition) this.violations.push(violation);
  }

  faultDone(): void {
    this.faultEndedAt = Date.now();
  }

  /**
   * Called right after Redis lost data. The jobs accepted until then (this load round included)
   * may be gone with it, and so may the job records of payouts created until then (PostgreSQL's
   * clock): the checks then ask PostgreSQL that those payouts finished, not Redis.
   */
  async markRedisDataLoss(): Promise<void> {
    const round = this.load.rounds;
    const [{ now }] = await this.cluster.sql<{ now: Date }>(`select clock_timestamp() as now`);
    this.redisDataLoss = {
      at: now,
      acceptedBefore: this.load.accepted.filter((j) => j.round <= round).map((j) => j.id),
      round,
    };
  }

  /** Waits until some payouts are being paid, so a fault lands mid-batch. */
  async midBatch(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      async () => {
        const [{ n }] = await this.cluster.sql<{ n: number }>(
          `select count(*)::int as n from payouts where status = 'processing'`,
        );
        return n > 0;
      },
      { timeoutMs, intervalMs: 20, message: 'payouts to be in flight' },
    );
  }

  /** Runs `fault` every `everyMs` (after the batch is in flight) while the load lasts. */
  async repeatDuringLoad(everyMs: number, fault: () => Promise<void>): Promise<void> {
    const until = Date.now() + this.size.loadMs;
    while (Date.now() < until) {
      await sleep(everyMs);
      await this.midBatch().catch(() => undefined);
      await fault();
      this.faults += 1;
    }
  }

  randomWorker(): { index: number; worker: ChaosProcess } {
    const running = this.cluster.workers
      .map((worker, index) => ({ worker, index }))
      .filter(({ worker }) => worker.running);
    return running[Math.floor(Math.random() * running.length)];
  }
}

export interface Scenario {
  name: string;
  /** What it shows, in a sentence (the test's name). */
  title: string;
  /** AOF fsync policy of its Redis. */
  appendfsync?: 'always' | 'everysec';
  env?: Record<string, string>;
  /** Redis as a Sentinel deployment (a primary, a replica, three sentinels). */
  sentinel?: boolean;
  /** Runs while the load runs; the suite starts and stops the load, settles and checks. */
  run(ctx: ScenarioContext): Promise<void>;
}
