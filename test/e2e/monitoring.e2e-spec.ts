import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { ProviderMetrics } from '../../src/metrics/provider-metrics';
import { SchedulesService } from '../../src/scheduler/schedules.service';
import { createHttpApp, HttpApp } from '../support/http-app';
import { metricSamples, metricSum } from '../support/metrics';
import { createPayees } from '../support/payouts-fixtures';
import { metricNames } from '../support/promql';
import {
  ALL_SCHEDULES_ON,
  createTestDatabase,
  query,
  startTestRedis,
  testEnv,
  TestRedis,
} from '../support/services';
import { waitUntil } from '../support/wait';

/*
 * /metrics of a running app (role `all`, real Redis and PostgreSQL) as Prometheus sees it:
 * promtool's lint, every metric the alert rules and the Grafana dashboard query, and the gauges
 * that read PostgreSQL and Redis at scrape time.
 */

const REPO = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensurePromtool } = require('../../scripts/lib/ensure-promtool.cjs') as {
  ensurePromtool(): string;
};
const SCHEDULES = ['payout-cycle', 'payout-reconcile', 'analytics-daily-stats', 'queue-cleanup'];

interface Dashboard {
  uid: string;
  title: string;
  panels: Array<{
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: Array<{ expr: string }>;
  }>;
}
const dashboard = JSON.parse(
  fs.readFileSync(path.join(REPO, 'deploy/grafana/dashboards/payouts-jobs.json'), 'utf8'),
) as Dashboard;
const alertRules = (
  yaml.load(fs.readFileSync(path.join(REPO, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: object }> }>;
  }
).groups.flatMap((group) => group.rules);

/** Sample names in an exposition text (histograms give _bucket, _sum and _count). */
function exposedNames(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? ''),
  );
}

describe('Monitoring: /metrics of a running app', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let http: HttpApp;
  let text: string;
  const scrape = async () => (await request(http.server).get('/metrics').expect(200)).text;

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    http = await createHttpApp(testEnv(redis.url, databaseUrl, { ...ALL_SCHEDULES_ON }));
    // One run of each schedule: job histograms and each schedule's last success get samples.
    const schedules = http.app.get(SchedulesService);
    for (const name of SCHEDULES) await schedules.runNow(name);
    // A request before the scrape we keep: the HTTP histogram has samples.
    await request(http.server).get('/health/live').expect(200);
    text = await waitUntil(
      async () => {
        const current = await scrape();
        const succeeded = metricSamples(current, 'schedule_last_success_timestamp_seconds');
        return succeeded.length === SCHEDULES.length ? current : undefined;
      },
      { message: 'a successful run of every schedule on /metrics', timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await http?.close();
    await redis?.stop();
  });

  it('passes promtool check metrics with no finding', () => {
    const result = spawnSync(ensurePromtool(), ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
    });
    expect({ status: result.status, findings: `${result.stdout}${result.stderr}`.trim() }).toEqual({
      status: 0,
      findings: '',
    });
  });

  it('exposes every metric the alert rules and the dashboard query', () => {
    const exposed = exposedNames(text);
    const used = new Map<string, string>();
    for (const rule of alertRules) {
      const templates = JSON.stringify(rule.annotations);
      const queries = [...templates.matchAll(/query \\"([^\\]+)\\"/g)].map((m) => m[1]);
      for (const expr of [rule.expr, ...queries]) {
        for (const name of metricNames(expr)) used.set(name, `alert ${rule.alert}`);
      }
    }
    const targets = dashboard.panels.flatMap((panel) => panel.targets ?? []);
    expect(targets.length).toBeGreaterThan(20);
    for (const target of targets) {
      for (const name of metricNames(target.expr)) used.set(name, 'dashboard');
    }
    expect(used.size).toBeGreaterThan(25);
    const missing = [...used].filter(([name]) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it('reads schedules, payouts, Redis and the pool at scrape time', () => {
    for (const schedule of SCHEDULES) {
      const [success] = metricSamples(text, 'schedule_last_success_timestamp_seconds', {
        schedule,
      });
      expect(success.value * 1000).toBeGreaterThan(Date.now() - 120_000);
      expect(metricSum(text, 'schedule_interval_seconds', { schedule })).toBeGreaterThan(0);
    }
    expect(metricSum(text, 'postgres_metrics_up')).toBe(1);
    expect(
      metricSamples(text, 'payouts')
        .map((s) => s.labels.status)
        .sort(),
    ).toEqual(['cancelled', 'failed', 'paid', 'pending', 'processing']);
    expect(metricSum(text, 'redis_up')).toBe(1);
    expect(metricSum(text, 'redis_maxmemory_policy_info', { policy: 'noeviction' })).toBe(1);
    expect(metricSum(text, 'redis_memory_used_bytes')).toBeGreaterThan(0);
    expect(metricSum(text, 'db_pool_max_connections')).toBe(http.config.database.poolSize);
    for (const queue of ['payouts', 'analytics', 'notifications', 'exports']) {
      expect(metricSum(text, 'queue_workers', { queue })).toBeGreaterThan(0);
      expect(metricSamples(text, 'queue_oldest_waiting_job_age_seconds', { queue })).toHaveLength(
        1,
      );
      expect(metricSamples(text, 'jobs_stalled_total', { queue })).toHaveLength(1);
    }
  });

  it('exposes every provider outcome at zero, and counts what ProviderMetrics records', async () => {
    for (const outcome of ['paid', 'declined', 'transient', 'rate_limited', 'unknown']) {
      expect(metricSamples(text, 'payouts_provider_calls_total', { outcome })).toEqual([
        { labels: { provider: 'simulated', outcome }, value: 0 },
      ]);
    }
    http.app.get(ProviderMetrics).record('simulated', 'unknown', 0.2);
    const after = await scrape();
    expect(
      metricSum(after, 'payouts_provider_calls_total', {
        provider: 'simulated',
        outcome: 'unknown',
      }),
    ).toBe(1);
    expect(metricSum(after, 'payouts_provider_call_duration_seconds_count')).toBe(1);
    expect(metricSum(after, 'payouts_provider_call_duration_seconds_bucket', { le: '0.25' })).toBe(
      1,
    );
  });

  it('counts payouts whose money may have moved, once outcome_unknown_at exists', async () => {
    // Before the column's migration (or with no such payout) the gauge is 0, not an error.
    expect(metricSum(text, 'payouts_money_may_have_moved')).toBe(0);
    await query(
      databaseUrl,
      'ALTER TABLE payouts ADD COLUMN IF NOT EXISTS outcome_unknown_at timestamptz',
    );
    const [payee] = await createPayees(databaseUrl, [{ earnings: [] }]);
    await query(
      databaseUrl,
      `INSERT INTO payouts (payee_id, amount_minor, currency, status, idempotency_key, processing_started_at, outcome_unknown_at)
       VALUES ($1, 500, 'EUR', 'processing', 'monitoring-test-1', now() - interval '1 hour', now() - interval '20 minutes'),
              ($1, 700, 'EUR', 'processing', 'monitoring-test-2', now(), NULL)`,
      [payee],
    );
    const after = await scrape();
    expect(metricSum(after, 'postgres_metrics_up')).toBe(1);
    expect(metricSum(after, 'payouts_money_may_have_moved')).toBe(1);
    expect(metricSum(after, 'payouts_money_may_have_moved_oldest_age_seconds')).toBeGreaterThan(
      19 * 60,
    );
    expect(metricSum(after, 'payouts', { status: 'processing' })).toBe(2);
    expect(metricSum(after, 'payouts_processing_oldest_age_seconds')).toBeGreaterThan(59 * 60);
  });
});

describe('Monitoring: Grafana and the compose profile', () => {
  const compose = yaml.load(fs.readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { profiles?: string[]; volumes?: string[] }>;
  };

  it('has a provisionable dashboard whose panels use the provisioned Prometheus', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    const datasources = yaml.load(
      fs.readFileSync(
        path.join(REPO, 'deploy/grafana/provisioning/datasources/prometheus.yml'),
        'utf8',
      ),
    ) as { datasources: Array<{ uid: string }> };
    const uids = new Set(datasources.datasources.map((d) => d.uid));
    const queried = dashboard.panels.filter((panel) => panel.type !== 'row');
    for (const panel of queried) {
      expect({ panel: panel.title, datasource: uids.has(panel.datasource?.uid ?? '') }).toEqual({
        panel: panel.title,
        datasource: true,
      });
    }
    const titles = queried.map((panel) => panel.title.toLowerCase()).join(' | ');
    for (const topic of [
      'backlog',
      'age',
      'throughput',
      'failures',
      'status',
      'paid per minute',
      'provider',
      'latency',
      '5xx',
      'redis',
      'pool',
    ]) {
      expect(titles).toContain(topic);
    }
  });

  it('runs Prometheus (with the rules) and Grafana (with the dashboard) only in the monitoring profile', () => {
    for (const name of ['prometheus', 'grafana']) {
      const service = compose.services[name];
      expect(service.profiles).toEqual(['monitoring']);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('./')) expect(fs.existsSync(path.join(REPO, source))).toBe(true);
      }
    }
    for (const name of ['redis', 'postgres', 'api', 'worker']) {
      expect(compose.services[name].profiles).toBeUndefined();
    }
    const config = spawnSync(
      ensurePromtool(),
      ['check', 'config', path.join(REPO, 'deploy/prometheus/prometheus.yml')],
      { encoding: 'utf8' },
    );
    expect({ status: config.status, output: config.stdout }).toEqual({
      status: 0,
      output: expect.stringMatching(/SUCCESS: 1 rule files found/),
    });
  });
});
