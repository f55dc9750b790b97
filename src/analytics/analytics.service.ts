import { Inject, Injectable, Logger } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { Database, DatabaseSchema } from '../database';
import { PermanentJobError } from '../queue';

export interface DayStats {
  day: string;
  currency: string;
  paidCount: number;
  paidSumMinor: number;
  failedCount: number;
  avgProcessingMs: number | null;
}

/**
 * Daily payout statistics per currency, by the UTC day a payout finished. Computed from the
 * payouts table and upserted (INSERT ... ON CONFLICT DO UPDATE), so running a day again, or two
 * runs at once, gives the same rows.
 */
@Injectable()
export class AnalyticsService {
  private readonly logger = new Logger(AnalyticsService.name);

  constructor(@Inject(Database) private readonly db: Kysely<DatabaseSchema>) {}

  /** The given day, or by default yesterday and today (UTC): today's rows fill up during the day. */
  async computeDailyStats(day?: string, now = new Date()): Promise<DayStats[]> {
    if (day !== undefined && !isCalendarDay(day)) {
      throw new PermanentJobError(`"${day}" is not a calendar day (YYYY-MM-DD)`);
    }
    const days = day ? [day] : [addDays(utcDay(now), -1), utcDay(now)];
    const results: DayStats[] = [];
    for (const d of days) results.push(...(await this.computeDay(d)));
    this.logger.log(`Daily stats for ${days.join(', ')}: ${results.length} rows`);
    return results;
  }

  private async computeDay(day: string): Promise<DayStats[]> {
    const { rows } = await sql<{
      day: string;
      currency: string;
      paid_count: number;
      paid_sum_minor: number;
      failed_count: number;
      avg_processing_ms: number | null;
    }>`
      INSERT INTO daily_payout_stats
        (day, currency, paid_count, paid_sum_minor, failed_count, avg_processing_ms, updated_at)
      SELECT ${day}::date, currency,
             count(*) FILTER (WHERE status = 'paid'),
             coalesce(sum(amount_minor) FILTER (WHERE status = 'paid'), 0),
             count(*) FILTER (WHERE status = 'failed'),
             round(avg(extract(epoch FROM finished_at - processing_started_at) * 1000)
                   FILTER (WHERE status = 'paid'))::bigint,
             now()
      FROM payouts
      WHERE finished_at >= ${day}::date AT TIME ZONE 'UTC'
        AND finished_at < (${day}::date + 1) AT TIME ZONE 'UTC'
        AND status IN ('paid', 'failed')
      GROUP BY currency
      ON CONFLICT (day, currency) DO UPDATE SET
        paid_count = EXCLUDED.paid_count,
        paid_sum_minor = EXCLUDED.paid_sum_minor,
        failed_count = EXCLUDED.failed_count,
        avg_processing_ms = EXCLUDED.avg_processing_ms,
        updated_at = EXCLUDED.updated_at
      RETURNING to_char(day, 'YYYY-MM-DD') AS day, currency, paid_count, paid_sum_minor,
                failed_count, avg_processing_ms
    `.execute(this.db);
    return rows.map((row) => ({
      day: row.day,
      currency: row.currency,
      paidCount: Number(row.paid_count),
      paidSumMinor: Number(row.paid_sum_minor),
      failedCount: Number(row.failed_count),
      avgProcessingMs: row.avg_processing_ms === null ? null : Number(row.avg_processing_ms),
    }));
  }
}

function isCalendarDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && utcDay(date) === day;
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return utcDay(date);
}
