import { mb, printTable, saveResults } from '../lib/report';
import { compare, figures, measuredOnly, Measurement, runRounds } from '../lib/rounds';
import { BenchContext, Scenario } from '../lib/scenario';
import { finalLine, fmt, plain, summarize } from '../lib/stats';
import { missingPayouts, SeededDatabases, sql, Stack } from '../payout-cycle/payout-stack';

/**
 * The payouts to export, written by SQL into the seeded template: one per payee, 1 in 20 failed,
 * spread over the last days, as a finished cycle leaves them. (Running a real 100k cycle to get
 * them took 13-16 minutes here, longer than the export it prepares; the cycle has its own
 * scenario.)
 */
async function insertPayouts(databaseUrl: string): Promise<void> {
  await sql(
    databaseUrl,
    `insert into payouts (payee_id, amount_minor, currency, status, idempotency_key,
       provider_reference, attempts, last_error, created_at, updated_at, processing_started_at,
       finished_at)
     select id, 1000 + id % 90000, currency, s.status, 'bench-export:' || id,
       case when s.status = 'paid' then 'sim_' || md5(id::text) end, 1,
       case when s.status = 'failed' then 'provider declined the transfer' end,
       s.at, s.at, s.at, s.at + interval '1 second'
     from payees,
       lateral (select case when id % 20 = 0 then 'failed' else 'paid' end as status,
                       now() - (id % 604800) * interval '1 second' as at) s`,
  );
}

/**
 * One CSV export of every payout (POST /exports with no filter) on a copy of the prepared
 * database, by one worker process. Rows/s from the export's own created_at and finished_at;
 * peak RSS of the worker that ran it (its VmHWM, boot included).
 */
async function exportOnce(
  context: BenchContext,
  seeded: SeededDatabases,
  payees: number,
): Promise<Record<string, number>> {
  const databaseUrl = await seeded.copy(await seeded.template(payees, insertPayouts, '_paid'));
  await context.services.flushRedis();
  const stack = await Stack.start(context, databaseUrl, 1, `export-${payees}`);
  try {
    const session = await stack.login();
    const created = await stack.post('/exports', session, {});
    const exportId = String(created.exportId ?? created.id);
    const deadline = Date.now() + 3_600_000;
    for (;;) {
      const [row] = await sql<{
        status: string;
        row_count: string;
        seconds: number;
        error: string | null;
      }>(
        databaseUrl,
        `select status, row_count, extract(epoch from finished_at - created_at)::float8 as seconds, error from exports where id = $1`,
        [exportId],
      );
      if (row?.status === 'failed') throw new Error(`export ${exportId} failed: ${row.error}`);
      if (row?.status === 'done') {
        return {
          rate: Number(row.row_count) / row.seconds,
          rows: Number(row.row_count),
          seconds: row.seconds,
          workerRss: stack.workers[0].peakRssBytes(),
          apiRss: stack.api.peakRssBytes(),
        };
      }
      if (Date.now() > deadline) throw new Error(`export ${exportId} did not finish in time`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await stack.stop();
  }
}

export const exportScenario: Scenario = {
  name: 'export',
  summary:
    'CSV export of 10k and 100k payouts by one worker: rows/s and peak RSS (needs the payouts branch)',
  async run(context) {
    const missing = missingPayouts();
    if (missing) return { skipped: missing };
    const [small, large] = context.smoke ? [20, 200] : [10_000, 100_000];
    const seeded = new SeededDatabases(context);
    const measurements: Measurement[] = [small, large].map((payees) => ({
      key: `${payees} payees`,
      run: () => exportOnce(context, seeded, payees),
    }));
    const values = await runRounds(measurements, context.rounds, context.out, context.filter);
    context.out('');
    for (const [key, figuresOf] of values) {
      const s = (name: string) => summarize(figuresOf[name]);
      context.out(
        `  ${key}: ${fmt(s('rows').median)} rows, ${fmt(s('rate').min)} / ${fmt(s('rate').median)} / ${fmt(s('rate').max)} rows/s; ` +
          `peak RSS worker ${mb(s('workerRss').min)} / ${mb(s('workerRss').median)} / ${mb(s('workerRss').max)}, api ${mb(s('apiRss').max)}`,
      );
    }
    const rows = measuredOnly([
      compare(
        `${fmt(large)} vs ${fmt(small)} payouts`,
        figures(values, `${large} payees`, 'rate'),
        figures(values, `${small} payees`, 'rate'),
        { unit: 'rows/s' },
      ),
    ]);
    const rss = measuredOnly([
      compare(
        'worker peak RSS, large vs small',
        figures(values, `${large} payees`, 'workerRss').map((b) => b / 2 ** 20),
        figures(values, `${small} payees`, 'workerRss').map((b) => b / 2 ** 20),
        {
          unit: 'MB',
          lowerIsBetter: true,
          target: { minRatio: 0.9, text: 'RSS flat (>= 0.9)' },
        },
      ),
    ]);
    printTable(context.out, 'export: rows/s of the large export vs the small one', rows);
    printTable(
      context.out,
      'export: worker peak RSS (ratio = small / large; 1 = does not grow with rows)',
      rss,
    );
    context.out(
      `results: ${saveResults('export', { small, large, rounds: context.rounds, values: Object.fromEntries(values), rows, rss })}`,
    );
    const [row] = rows;
    return {
      line: finalLine(
        'export',
        row.ratio,
        `${plain(row.project.median)}/s`,
        `${plain(row.baseline.median)}/s`,
      ),
    };
  },
};
