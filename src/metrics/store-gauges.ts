import { Injectable, Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { Gauge } from 'prom-client';
import { Database, PayoutStatus } from '../database';
import { ScheduleCatalog } from '../scheduler/schedule-catalog';
import { periodAt } from '../scheduler/schedule-timing';
import { MetricsRegistry } from './metrics.registry';
import { scrapeRead } from './with-timeout';

const READ_TIMEOUT_MS = 2_000;
const PAYOUT_STATUSES: readonly PayoutStatus[] = [
  'pending',
  'processing',
  'paid',
  'failed',
  'cancelled',
];
/** PostgreSQL's undefined_column: `payouts.outcome_unknown_at` before its migration ran. */
const UNDEFINED_COLUMN = '42703';

interface Snapshot {
  payouts: Map<string, number>;
  /** Start of the oldest payout still in `processing` (epoch ms). */
  oldestProcessingAt?: number;
  moneyMayHaveMoved: number;
  oldestMoneyMayHaveMovedAt?: number;
  /** Latest successful finish of each schedule (epoch ms). */
  lastSuccess: Map<string, number>;
  /** Tick of the oldest run kept of each schedule (epoch ms). */
  firstRun: Map<string, number>;
}

/**
 * Payouts and schedules, read from PostgreSQL when Prometheus scrapes, so they are cluster-wide
 * whichever API instance is scraped (HTTP roles only, like the queue gauges). The gauges of one
 * scrape share one read; while PostgreSQL does not answer within 2 s the series are left out and
 * postgres_metrics_up is 0. Cost per scrape: a count by status on payouts_status_idx, two small
 * aggregates over the processing payouts, one over schedule_runs (trimmed by retention).
 */
@Injectable()
export class StoreGauges {
  private readonly logger = new Logger(StoreGauges.name);

  constructor(
    private readonly db: Database,
    private readonly schedules: ScheduleCatalog,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    const read = scrapeRead(() => this.snapshot(), {
      timeoutMs: READ_TIMEOUT_MS,
      logger: this.logger,
      failure: 'Payout and schedule gauges not read from PostgreSQL',
    });
    const ageOf = (at: number | undefined) =>
      at === undefined ? 0 : Math.max(0, Date.now() - at) / 1000;
    new Gauge({
      name: 'payouts',
      help: 'Payouts by status (pending, processing, paid, failed, cancelled), all time',
      labelNames: ['status'],
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (!snapshot) return;
        for (const status of PAYOUT_STATUSES)
          this.set({ status }, snapshot.payouts.get(status) ?? 0);
      },
    });
    new Gauge({
      name: 'payouts_processing_oldest_age_seconds',
      help: 'How long the oldest payout still in processing has been there, 0 when none is',
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (snapshot) this.set(ageOf(snapshot.oldestProcessingAt));
      },
    });
    new Gauge({
      name: 'payouts_money_may_have_moved',
      help: 'Payouts in processing whose provider call had an unknown outcome (outcome_unknown_at set)',
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (snapshot) this.set(snapshot.moneyMayHaveMoved);
      },
    });
    new Gauge({
      name: 'payouts_money_may_have_moved_oldest_age_seconds',
      help: 'Time since the oldest unknown provider outcome of a payout still in processing, 0 when none',
      registers,
      async collect() {
        const snapshot = await read();
        this.reset();
        if (snapshot) this.set(ageOf(snapshot.oldestMoneyMayHaveMovedAt));
      },
    });
    const enabled = () => this.schedules.enabled;
    const perSchedule = (
      name: string,
      help: string,
      pick: (snapshot: Snapshot) => Map<string, number>,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['schedule'],
        registers,
        async collect() {
          const snapshot = await read();
          this.reset();
          if (!snapshot) return;
          for (const { name: schedule } of enabled()) {
            const at = pick(snapshot).get(schedule);
            if (at !== undefined) this.set({ schedule }, at / 1000);
          }
        },
      });
    perSchedule(
      'schedule_last_success_timestamp_seconds',
      'When each enabled schedule last finished a run successfully (Unix time); absent until its first success',
      (snapshot) => snapshot.lastSuccess,
    );
    // With it, a schedule that has run but never succeeded is also "not succeeding since then".
    perSchedule(
      'schedule_first_run_timestamp_seconds',
      'Tick of the oldest run of each enabled schedule still kept in schedule_runs (Unix time); absent before its first run',
      (snapshot) => snapshot.firstRun,
    );
    new Gauge({
      name: 'schedule_interval_seconds',
      help: 'Time between two ticks of each enabled schedule (the current period for a cron)',
      labelNames: ['schedule'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const { name, timing } of enabled()) {
          this.set({ schedule: name }, periodAt(timing, now) / 1000);
        }
      },
    });
    new Gauge({
      name: 'postgres_metrics_up',
      help: '1 when the payout and schedule gauges could be read from PostgreSQL at this scrape',
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
  }

  private async snapshot(): Promise<Snapshot> {
    const [byStatus, processing, unknown, runs] = await Promise.all([
      this.db
        .selectFrom('payouts')
        .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy('status')
        .execute(),
      this.db
        .selectFrom('payouts')
        .select((eb) =>
          eb.fn.min(eb.fn.coalesce('processing_started_at', 'updated_at')).as('oldest'),
        )
        .where('status', '=', 'processing')
        .executeTakeFirst(),
      this.moneyMayHaveMoved(),
      sql<{ schedule: string; succeeded: Date | null; first: Date }>`
        SELECT schedule,
               max(finished_at) FILTER (WHERE status = 'succeeded') AS succeeded,
               min(tick_at) AS first
        FROM schedule_runs GROUP BY schedule
      `.execute(this.db),
    ]);
    return {
      payouts: new Map(byStatus.map((row) => [row.status, Number(row.count)])),
      oldestProcessingAt: timeOf(processing?.oldest),
      moneyMayHaveMoved: unknown.count,
      oldestMoneyMayHaveMovedAt: unknown.oldest,
      lastSuccess: timesBySchedule(runs.rows, (row) => row.succeeded),
      firstRun: timesBySchedule(runs.rows, (row) => row.first),
    };
  }

  /**
   * Payouts still in processing whose provider call ended with an unknown outcome: the sticky
   * `outcome_unknown_at` flag. The column comes with a later migration; until it exists the
   * query fails with undefined_column and this reports 0 (asked again at each scrape, so the
   * gauge turns live as soon as the migration has run, without a restart).
   */
  private async moneyMayHaveMoved(): Promise<{ count: number; oldest?: number }> {
    try {
      const { rows } = await sql<{ count: number; oldest: Date | null }>`
        SELECT count(*)::int AS count, min(outcome_unknown_at) AS oldest
        FROM payouts
        WHERE status = 'processing' AND outcome_unknown_at IS NOT NULL
      `.execute(this.db);
      return { count: rows[0]?.count ?? 0, oldest: timeOf(rows[0]?.oldest) };
    } catch (error) {
      if ((error as { code?: string }).code === UNDEFINED_COLUMN) return { count: 0 };
      throw error;
    }
  }
}

function timeOf(value: Date | string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const at = new Date(value).getTime();
  return Number.isFinite(at) ? at : undefined;
}

function timesBySchedule<R extends { schedule: string }>(
  rows: R[],
  pick: (row: R) => Date | null,
): Map<string, number> {
  return new Map(
    rows.flatMap((row) => {
      const at = timeOf(pick(row));
      return at === undefined ? [] : [[row.schedule, at] as const];
    }),
  );
}
