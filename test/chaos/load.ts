import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosCluster } from './cluster';

/** How the HTTP API answered during a run, per class of answer. */
export class HttpTally {
  readonly counts: Record<string, number> = {};
  /** A few examples of unexpected answers (5xx other than 503) for the report. */
  readonly unexpected: string[] = [];

  record(what: string, detail?: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
    if (detail && this.unexpected.length < 10) this.unexpected.push(detail);
  }

  count(what: string): number {
    return this.counts[what] ?? 0;
  }

  /** Answers that must never happen: a 5xx other than 503. */
  get serverErrors(): number {
    return Object.entries(this.counts)
      .filter(([key]) => /^5\d\d$/.test(key) && key !== '503')
      .reduce((sum, [, n]) => sum + n, 0);
  }

  toString(): string {
    return Object.entries(this.counts)
      .sort()
      .map(([key, n]) => `${key}:${n}`)
      .join(',');
  }
}

export interface LoadOptions {
  payees: number;
  /** Payees that earn (and so will be paid) per round. */
  perRound: number;
  roundMs: number;
}

/**
 * The business going on while faults happen: payees earn (ledger entries written as the
 * platform would), and admins trigger payout cycles and single-payee payouts through the
 * HTTP API of both instances. Every accepted job ID is kept, so the checks can find each one.
 */
export class LoadDriver {
  readonly http = new HttpTally();
  readonly acceptedJobs = new Set<string>();
  /**
   * Each accepted job with the load round that got it: after Redis lost its data, job IDs start
   * again from 1, and the jobs of the rounds before the loss may be gone with it.
   */
  readonly accepted: Array<{ id: string; round: number }> = [];
  rounds = 0;
  earnings = 0;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly options: LoadOptions,
  ) {}

  /** Payees with ids 1..n, each with a minimum payout of 10.00. */
  async seed(): Promise<void> {
    await this.cluster.sql(
      `insert into payees (name, email, currency, minimum_payout_minor)
       select 'Payee ' || i, 'payee' || i || '@example.com', 'EUR', 1000 from generate_series(1, $1) as i`,
      [this.options.payees],
    );
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the current round, and waits for it. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await this.round().catch(() => this.http.record('driver-error'));
      this.rounds += 1;
      await sleep(Math.max(0, this.options.roundMs - (Date.now() - started)));
    }
  }

  /** Earnings for a random set of payees, then a cycle on one API and a direct payout on the other. */
  async round(): Promise<void> {
    const { payees, perRound } = this.options;
    const ids = new Set<number>();
    while (ids.size < Math.min(perRound, payees)) ids.add(1 + Math.floor(Math.random() * payees));
    const chosen = [...ids];
    const direct = chosen.pop() as number;
    await this.cluster.sql(
      `insert into ledger_entries (payee_id, kind, amount_minor, currency)
       select id, 'earning', 1000 + (random() * 9000)::int, 'EUR' from unnest($1::bigint[]) as id`,
      [[...chosen, direct]],
    );
    this.earnings += chosen.length + 1;
    const first = this.rounds % 2;
    await Promise.all([
      this.call(first, 'POST', '/payouts/cycle'),
      this.call(1 - first, 'POST', `/payees/${direct}/pay`),
    ]);
  }

  /** One admin call; answers are tallied, accepted jobs kept. Never throws. */
  async call(apiIndex: number, method: string, path: string): Promise<number | undefined> {
    const round = this.rounds;
    const api = this.cluster.apis[apiIndex];
    if (!api?.process.running) {
      this.http.record('instance-down');
      return undefined;
    }
    try {
      const res = await api.client.request<{ jobId?: string | number }>(method, path, {
        session: this.cluster.session,
        timeoutMs: 10_000,
      });
      const status = String(res.status);
      const unexpected = /^5\d\d$/.test(status) && status !== '503';
      this.http.record(
        status,
        unexpected ? `${method} ${path} -> ${status} ${JSON.stringify(res.body)}` : undefined,
      );
      if (res.status === 202 && res.body?.jobId !== undefined) {
        this.acceptedJobs.add(String(res.body.jobId));
        this.accepted.push({ id: String(res.body.jobId), round });
      }
      return res.status;
    } catch {
      this.http.record('no-answer');
      return undefined;
    }
  }
}
