// biome-ignore-all lint/suspicious/noExplicitAny: parsed YAML is untyped
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { isKnownMetric, metricNames } from './metrics';
import { deployDir, prometheusTool, run } from './paths';

const dir = join(deployDir, 'prometheus');
const alerts = parse(readFileSync(join(dir, 'alerts.yaml'), 'utf8')) as {
  groups: Array<{ name: string; rules: Array<Record<string, any>> }>;
};
const rules = alerts.groups.flatMap((g) => g.rules);

describe('Prometheus alert rules (deploy/prometheus)', () => {
  test('promtool check rules accepts alerts.yaml', () => {
    const out = run(prometheusTool('promtool'), ['check', 'rules', join(dir, 'alerts.yaml')]);
    assert.match(out, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  test('promtool test rules: every case passes (series that fire and series that do not)', () => {
    const out = run(prometheusTool('promtool'), ['test', 'rules', 'alerts.test.yaml'], { cwd: dir });
    assert.match(out, /SUCCESS/);
  });

  test('a broken expectation makes promtool test rules fail (the unit tests are not vacuous)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'clarion-rules-'));
    try {
      writeFileSync(join(tmp, 'alerts.yaml'), readFileSync(join(dir, 'alerts.yaml')));
      const broken = readFileSync(join(dir, 'alerts.test.yaml'), 'utf8').replace(
        /^(\s+)plugin: apns$/m,
        '$1plugin: fcm',
      );
      writeFileSync(join(tmp, 'alerts.test.yaml'), broken);
      assert.throws(
        () => run(prometheusTool('promtool'), ['test', 'rules', 'alerts.test.yaml'], { cwd: tmp }),
        /FAILED/,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("the issue's alerts exist: backlog, failure rate per plugin, provider 429s, no deliveries, stuck schedules, process down", () => {
    const names = rules.map((r) => r.alert);
    for (const name of [
      'ClarionQueueBacklogGrowing',
      'ClarionPluginFailureRateHigh',
      'ClarionProviderThrottling',
      'ClarionNoDeliveriesWhileAccepting',
      'ClarionScheduledNotificationsStuck',
      'ClarionProcessDown',
    ]) {
      assert.ok(names.includes(name), `missing alert ${name}`);
    }
  });

  test('every alert has severity, summary and description, and a firing and a quiet case in alerts.test.yaml', () => {
    const tests = parse(readFileSync(join(dir, 'alerts.test.yaml'), 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of rules) {
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity), `${rule.alert} severity`);
      assert.ok(rule.annotations?.summary && rule.annotations?.description, `${rule.alert} annotations`);
      const mine = cases.filter((c) => c.alertname === rule.alert);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${rule.alert} has no case where it fires`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert} has no case where it stays quiet`,
      );
    }
  });

  test('alerts use only metrics the processes export', () => {
    for (const rule of rules) {
      for (const name of metricNames(rule.expr))
        assert.ok(isKnownMetric(name), `${rule.alert} uses unknown metric ${name}`);
    }
  });

  test('prometheus.yml for compose is valid and loads the rules; scrape jobs match the alerts', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'clarion-promcfg-'));
    try {
      writeFileSync(join(tmp, 'alerts.yaml'), readFileSync(join(dir, 'alerts.yaml')));
      const config = readFileSync(join(dir, 'prometheus.yml'), 'utf8');
      assert.match(config, /\/etc\/prometheus\/rules\/alerts\.yaml/);
      writeFileSync(
        join(tmp, 'prometheus.yml'),
        config.replace('/etc/prometheus/rules/alerts.yaml', join(tmp, 'alerts.yaml')),
      );
      const out = run(prometheusTool('promtool'), ['check', 'config', join(tmp, 'prometheus.yml')]);
      assert.match(out, /SUCCESS/);
      const jobs = (parse(config).scrape_configs as Array<{ job_name: string }>).map((j) => j.job_name);
      assert.ok(jobs.includes('clarion-api') && jobs.includes('clarion-worker'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
