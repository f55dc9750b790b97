import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * The Prometheus alert rules (deploy/prometheus/alerts.yml): valid (`promtool check rules`), each
 * one fired and left quiet by its own series (`promtool test rules` on alerts.test.yml), and
 * each with what an on-call engineer needs: severity, summary, a description that says what to
 * do, and a runbook section in docs/operations.md.
 */

const REPO = path.resolve(__dirname, '..', '..');
const RULES = path.join(REPO, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = path.join(REPO, 'deploy/prometheus/alerts.test.yml');
// js-yaml comes with the dev tools (ESLint, Swagger), as in the deployment-kit test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensurePromtool } = require('../../scripts/lib/ensure-promtool.cjs') as {
  ensurePromtool(): string;
};

interface AlertRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test: Array<{
    alertname: string;
    exp_alerts: Array<{ exp_labels: Record<string, string> }>;
  }>;
}

const rules = (
  yaml.load(fs.readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }
).groups.flatMap((group) => group.rules);
const ruleTests = (yaml.load(fs.readFileSync(RULE_TESTS, 'utf8')) as { tests: RuleTest[] }).tests;

function promtool(...args: string[]) {
  const result = spawnSync(ensurePromtool(), args, { cwd: REPO, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Label values of `name` in the input series (`metric{a="1",name="x"}`). */
function labelValues(series: RuleTest['input_series'], name: string): Set<string> {
  const pattern = new RegExp(`[{,]${name}="([^"]*)"`);
  return new Set(series.flatMap((s) => pattern.exec(s.series)?.[1] ?? []));
}

describe('Alert rules (deploy/prometheus/alerts.yml)', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS/) });
  });

  it('pass their promtool unit tests', () => {
    const { status, output } = promtool('test', 'rules', RULE_TESTS);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS/) });
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))(
    '%s is tested firing and quiet',
    (alert, rule) => {
      const cases = ruleTests.flatMap((test) =>
        test.alert_rule_test
          .filter((assertion) => assertion.alertname === alert)
          .map((assertion) => ({ test, assertion })),
      );
      const firing = cases.filter((c) => c.assertion.exp_alerts.length > 0);
      expect(firing.length).toBeGreaterThan(0);
      // Quiet: a case expecting no alert, or a firing case whose input has series for more
      // groups (queue, provider, ...) than the alerts it expects.
      const quiet =
        cases.some((c) => c.assertion.exp_alerts.length === 0) ||
        firing.some(({ test, assertion }) =>
          Object.keys(assertion.exp_alerts[0].exp_labels)
            .filter((label) => !(label in (rule.labels ?? {})))
            .some(
              (label) =>
                labelValues(test.input_series, label).size >
                new Set(assertion.exp_alerts.map((a) => a.exp_labels[label])).size,
            ),
        );
      expect({ alert, quiet }).toEqual({ alert, quiet: true });
    },
  );

  it('give each alert a severity, a summary, what to do, and a runbook section', () => {
    const operations = fs.readFileSync(path.join(REPO, 'docs/operations.md'), 'utf8');
    const headings = new Set(
      [...operations.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description?.length).toBeGreaterThan(80);
      const anchor = /^docs\/operations\.md#(.+)$/.exec(rule.annotations?.runbook_url ?? '')?.[1];
      expect({ alert: rule.alert, runbook: anchor && headings.has(anchor) }).toEqual({
        alert: rule.alert,
        runbook: true,
      });
    }
  });
});
