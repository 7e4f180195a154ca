import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dashboard, dataPanels } from './dashboard';
import { isKnownMetric, metricNames } from './metrics';
import { deployDir, prometheusTool, run } from './paths';
import {
  query,
  type RunningPrometheus,
  startPrometheus,
  substituteGrafanaVariables,
  waitForTargetsUp,
} from './prometheus-server';

describe('Grafana dashboard (deploy/grafana/clarion.json): static checks', () => {
  test('has a uid, a title and a Prometheus data source variable', () => {
    assert.equal(dashboard.uid, 'clarion-overview');
    assert.equal(dashboard.title, 'Clarion');
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.equal(ds?.name, 'datasource');
    assert.equal(ds?.query, 'prometheus');
  });

  test('every panel has a data source and at least one non-empty query, and ids are unique', () => {
    assert.ok(dataPanels.length >= 20);
    const ids = new Set<number>();
    for (const p of dataPanels) {
      assert.ok(p.datasource?.uid, `panel "${p.title}" has no data source`);
      assert.equal(p.datasource?.type, 'prometheus');
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has no query`);
      for (const t of p.targets ?? []) {
        assert.ok(t.expr.trim(), `panel "${p.title}" ${t.refId} has an empty query`);
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable
        assert.equal(t.datasource?.uid ?? p.datasource?.uid, '${datasource}');
      }
      assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
      ids.add(p.id);
    }
  });

  test('every metric a query uses is one the processes export', () => {
    const unknown: string[] = [];
    for (const p of dataPanels) {
      for (const t of p.targets ?? [])
        for (const m of metricNames(t.expr)) if (!isKnownMetric(m)) unknown.push(`${p.title}: ${m}`);
    }
    for (const v of dashboard.templating.list) {
      const q = typeof v.query === 'object' && v.query ? (v.query as { query: string }).query : '';
      const inner = /label_values\((.*),\s*\w+\)/.exec(q)?.[1];
      if (inner)
        for (const m of metricNames(inner)) if (!isKnownMetric(m)) unknown.push(`variable ${v.name}: ${m}`);
    }
    assert.deepEqual(unknown, []);
  });

  test('every query is valid PromQL once Grafana variables are substituted (promtool)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clarion-dash-'));
    try {
      const rules = dataPanels.flatMap((p) =>
        (p.targets ?? []).map((t, i) => ({
          record: `dashboard:panel${p.id}_${i}`,
          expr: substituteGrafanaVariables(t.expr),
        })),
      );
      writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      assert.match(run(prometheusTool('promtool'), ['check', 'rules', join(dir, 'rules.yaml')]), /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('covers what the issue asks: throughput, success/failure and click rate, latency percentiles, queue depth, suppressions, provider errors', () => {
    const titles = dataPanels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const word of [
      'sent',
      'success rate',
      'failure rate',
      'click rate',
      'latency',
      'p95',
      'queue depth',
      'suppressed',
      'send attempts by result',
    ]) {
      const inQueries = dataPanels.some((p) => (p.targets ?? []).some((t) => t.expr.includes('0.95')));
      assert.ok(titles.includes(word) || (word === 'p95' && inQueries), `no panel about ${word}`);
    }
  });

  test('clarion.json is the output of generate-dashboard.mjs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clarion-dashgen-'));
    try {
      run(process.execPath, [
        join(deployDir, 'grafana', 'generate-dashboard.mjs'),
        join(dir, 'clarion.json'),
      ]);
      assert.equal(
        readFileSync(join(dir, 'clarion.json'), 'utf8'),
        readFileSync(join(deployDir, 'grafana', 'clarion.json'), 'utf8'),
        'regenerate: node deploy/grafana/generate-dashboard.mjs deploy/grafana/clarion.json',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('panels do not overlap on the grid', () => {
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.x + g.w <= 24, `${p.title} outside the 24-column grid`);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const key = `${x},${y}`;
          assert.ok(!cells.has(key), `"${p.title}" overlaps "${cells.get(key)}"`);
          cells.set(key, p.title);
        }
      }
    }
  });
});

// A stand-in exporter with the series a busy Clarion would export (counters grow on every
// scrape). It proves the Prometheus machinery and that every panel query returns data for the
// documented metric names; dashboard-live.test.ts does the same against the real server.
function fakeExporter(): Server {
  let tick = 0;
  const plugins = [
    ['push', 'apns'],
    ['push', 'fcm'],
    ['email', 'smtp'],
  ];
  return createServer((_req, res) => {
    tick++;
    const lines: string[] = [];
    const counter = (name: string, labels: string, perTick: number): void => {
      lines.push(`${name}{${labels}} ${tick * perTick}`);
    };
    counter('clarion_notifications_accepted_total', '', 10);
    counter('clarion_notifications_deduplicated_total', '', 1);
    for (const [channel, plugin] of plugins) {
      const l = `channel="${channel}",plugin="${plugin}"`;
      for (const [status, reason, n] of [
        ['queued', '', 10],
        ['sent', '', 9],
        ['delivered', '', 8],
        ['opened', '', 3],
        ['clicked', '', 1],
        ['failed', 'permanent', 1],
        ['suppressed', 'opted_out', 1],
        ['suppressed', 'quiet_hours', 1],
      ] as const) {
        counter('clarion_deliveries_total', `${l},status="${status}",reason="${reason}"`, n);
      }
      for (const [result, n] of [
        ['sent', 9],
        ['retry', 1],
        ['throttled', 1],
        ['permanent', 1],
      ] as const)
        counter('clarion_plugin_send_attempts_total', `${l},result="${result}"`, n);
      for (const [metric, le] of [
        ['clarion_plugin_send_duration_seconds', ['0.1', '1', '+Inf']],
        ['clarion_delivery_latency_seconds', ['1', '10', '+Inf']],
      ] as const) {
        for (const [i, b] of le.entries()) counter(`${metric}_bucket`, `${l},le="${b}"`, 3 * (i + 1));
        counter(`${metric}_sum`, l, 2);
        counter(`${metric}_count`, l, 9);
      }
      lines.push(
        `clarion_plugin_in_flight{plugin="${plugin}"} 3`,
        `clarion_plugin_healthy{plugin="${plugin}"} 1`,
      );
      counter('clarion_tracking_events_total', `channel="${channel}",event="opened"`, 3);
      counter('clarion_tracking_events_total', `channel="${channel}",event="clicked"`, 1);
      for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'failed'])
        lines.push(`clarion_queue_jobs{queue="clarion.${plugin}",state="${state}"} 5`);
      lines.push(`clarion_queue_oldest_waiting_seconds{queue="clarion.${plugin}"} 2`);
    }
    for (const scope of ['user', 'api_key']) counter('clarion_rate_limit_hits_total', `scope="${scope}"`, 1);
    lines.push('clarion_scheduled_overdue_notifications 0');
    for (const [status, le] of [
      ['202', ['0.05', '0.5', '+Inf']],
      ['500', ['0.05', '0.5', '+Inf']],
    ] as const) {
      const l = `method="POST",route="/v1/notifications",status_code="${status}"`;
      for (const [i, b] of le.entries()) {
        counter('clarion_http_request_duration_seconds_bucket', `${l},le="${b}"`, 5 * (i + 1));
      }
      counter('clarion_http_request_duration_seconds_sum', l, 1);
      counter('clarion_http_request_duration_seconds_count', l, 15);
    }
    counter('process_cpu_seconds_total', '', 0.01);
    lines.push('nodejs_heap_size_used_bytes 52428800', 'process_resident_memory_bytes 104857600');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  });
}

describe('Grafana dashboard: every panel query returns data from a real Prometheus', () => {
  let exporter: Server;
  let prometheus: RunningPrometheus | undefined;

  before(async () => {
    exporter = fakeExporter();
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', () => r()));
    const address = exporter.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    prometheus = await startPrometheus([
      { job: 'clarion-api', address: `127.0.0.1:${port}` },
      { job: 'clarion-worker', address: `127.0.0.1:${port}` },
    ]);
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((r) => exporter.close(() => r()));
  });

  test('each panel query (variables substituted) returns at least one series', async () => {
    assert.ok(prometheus);
    await waitForTargetsUp(prometheus.url, ['clarion-api', 'clarion-worker']);
    // rate() needs two samples of each series inside its window: wait for a few scrapes.
    const deadline = Date.now() + 30_000;
    let empty: string[] = [];
    for (;;) {
      empty = [];
      for (const p of dataPanels) {
        for (const t of p.targets ?? []) {
          const result = await query(prometheus.url, substituteGrafanaVariables(t.expr));
          assert.equal(result.status, 'success', `${p.title}: ${result.error}`);
          if ((result.data?.result ?? []).length === 0) empty.push(`${p.title} [${t.refId}]`);
        }
      }
      if (empty.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(empty, [], 'panels without data');
  });
});
