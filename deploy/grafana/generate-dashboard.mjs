// Generates clarion.json (the Grafana dashboard). Edit here, then:
//   node deploy/grafana/generate-dashboard.mjs deploy/grafana/clarion.json && cp deploy/grafana/clarion.json deploy/helm/clarion/files/
// libs/deploy-tests checks that clarion.json is this script's output and that the chart copy is identical.
import { writeFileSync } from 'node:fs';

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JS template
const ds = { type: 'prometheus', uid: '${datasource}' };
const sel = 'channel=~"$channel",plugin=~"$plugin"';
const R = '[$__rate_interval]';
let id = 0;
let y = 0;
const panels = [];
function row(title) {
  panels.push({
    type: 'row',
    title,
    id: ++id,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: y++ },
    panels: [],
  });
  x = 0;
}
let x = 0;
let rowH = 0;
function panel(
  title,
  description,
  targets,
  { type = 'timeseries', w = 8, h = 8, unit = 'short', min, max, stacking } = {},
) {
  if (x + w > 24) {
    x = 0;
    y += rowH;
    rowH = 0;
  }
  const p = {
    type,
    title,
    description,
    id: ++id,
    datasource: ds,
    gridPos: { h, w, x, y },
    fieldConfig: {
      defaults: {
        unit,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(type === 'timeseries'
          ? {
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                stacking: { mode: stacking ?? 'none', group: 'A' },
              },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      type === 'stat'
        ? {
            reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
            colorMode: 'value',
            graphMode: 'area',
            textMode: 'auto',
          }
        : {
            legend: { displayMode: 'table', placement: 'right', calcs: ['mean', 'max'], showLegend: true },
            tooltip: { mode: 'multi', sort: 'desc' },
          },
    targets: targets.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: ds,
      expr,
      legendFormat,
      range: true,
      instant: false,
    })),
  };
  panels.push(p);
  x += w;
  rowH = Math.max(rowH, h);
  if (x >= 24) {
    x = 0;
    y += rowH;
    rowH = 0;
  }
}
function endRow() {
  if (x > 0) {
    y += rowH;
  }
  x = 0;
  rowH = 0;
}

row('Overview');
panel(
  'Notifications accepted / s',
  'POST /v1/notifications accepted (after de-duplication).',
  [[`sum(rate(clarion_notifications_accepted_total${R}))`, 'accepted']],
  { type: 'stat', w: 6, h: 4, unit: 'reqps' },
);
panel(
  'Deliveries sent / s',
  'Deliveries handed to a provider successfully.',
  [[`sum(rate(clarion_deliveries_total{status="sent",${sel}}${R}))`, 'sent']],
  { type: 'stat', w: 6, h: 4, unit: 'reqps' },
);
panel(
  'Delivery success rate',
  'sent / (sent + failed) over the selected channels and plugins.',
  [
    [
      `sum(rate(clarion_deliveries_total{status="sent",${sel}}${R})) / sum(rate(clarion_deliveries_total{status=~"sent|failed",${sel}}${R}))`,
      'success',
    ],
  ],
  { type: 'stat', w: 6, h: 4, unit: 'percentunit', min: 0, max: 1 },
);
panel(
  'Processes up',
  'Scraped Clarion targets that answer (job clarion-api, clarion-worker).',
  [[`sum by (job) (up{job=~"clarion-api|clarion-worker"})`, '{{job}}']],
  { type: 'stat', w: 6, h: 4 },
);
endRow();

row('Throughput');
panel(
  'Deliveries by status',
  'Every delivery state change per second, by status.',
  [[`sum by (status) (rate(clarion_deliveries_total{${sel}}${R}))`, '{{status}}']],
  { unit: 'reqps' },
);
panel(
  'Sent by channel and plugin',
  'Successful provider hand-offs per second.',
  [
    [
      `sum by (channel, plugin) (rate(clarion_deliveries_total{status="sent",${sel}}${R}))`,
      '{{channel}} / {{plugin}}',
    ],
  ],
  { unit: 'reqps' },
);
panel(
  'Accepted and de-duplicated',
  'Notifications accepted vs. repeats answered from de-duplication.',
  [
    [`sum(rate(clarion_notifications_accepted_total${R}))`, 'accepted'],
    [`sum(rate(clarion_notifications_deduplicated_total${R}))`, 'deduplicated'],
  ],
  { unit: 'reqps' },
);
endRow();

row('Success, failures and engagement');
panel(
  'Success rate by plugin',
  'sent / (sent + failed) per channel and plugin.',
  [
    [
      `sum by (channel, plugin) (rate(clarion_deliveries_total{status="sent",${sel}}${R})) / sum by (channel, plugin) (rate(clarion_deliveries_total{status=~"sent|failed",${sel}}${R}))`,
      '{{channel}} / {{plugin}}',
    ],
  ],
  { unit: 'percentunit', min: 0, max: 1 },
);
panel(
  'Failure rate by plugin',
  'failed / (sent + failed) per channel and plugin; the alert fires above 5%.',
  [
    [
      `sum by (channel, plugin) (rate(clarion_deliveries_total{status="failed",${sel}}${R})) / sum by (channel, plugin) (rate(clarion_deliveries_total{status=~"sent|failed",${sel}}${R}))`,
      '{{channel}} / {{plugin}}',
    ],
  ],
  { unit: 'percentunit', min: 0, max: 1 },
);
panel(
  'Failures by reason',
  'Failed deliveries per second by plugin and reason (permanent, configuration, invalid_address, retries_exhausted).',
  [
    [
      `sum by (plugin, reason) (rate(clarion_deliveries_total{status="failed",${sel}}${R}))`,
      '{{plugin}}: {{reason}}',
    ],
  ],
  { unit: 'reqps' },
);
panel(
  'Click rate by plugin',
  'clicked / sent per channel and plugin.',
  [
    [
      `sum by (channel, plugin) (rate(clarion_deliveries_total{status="clicked",${sel}}${R})) / sum by (channel, plugin) (rate(clarion_deliveries_total{status="sent",${sel}}${R}))`,
      '{{channel}} / {{plugin}}',
    ],
  ],
  { unit: 'percentunit', min: 0 },
);
panel(
  'Open rate by plugin',
  'opened / sent per channel and plugin.',
  [
    [
      `sum by (channel, plugin) (rate(clarion_deliveries_total{status="opened",${sel}}${R})) / sum by (channel, plugin) (rate(clarion_deliveries_total{status="sent",${sel}}${R}))`,
      '{{channel}} / {{plugin}}',
    ],
  ],
  { unit: 'percentunit', min: 0 },
);
panel(
  'Tracking events',
  'Open and click tracking events per second by channel.',
  [
    [
      `sum by (channel, event) (rate(clarion_tracking_events_total{channel=~"$channel"}${R}))`,
      '{{channel}} {{event}}',
    ],
  ],
  { unit: 'reqps' },
);
endRow();

row('Latency');
panel(
  'Delivery latency (accept → provider answer)',
  "End-to-end latency percentiles from accept to the provider's answer.",
  [
    [
      `histogram_quantile(0.5, sum by (plugin, le) (rate(clarion_delivery_latency_seconds_bucket{${sel}}${R})))`,
      'p50 {{plugin}}',
    ],
    [
      `histogram_quantile(0.95, sum by (plugin, le) (rate(clarion_delivery_latency_seconds_bucket{${sel}}${R})))`,
      'p95 {{plugin}}',
    ],
    [
      `histogram_quantile(0.99, sum by (plugin, le) (rate(clarion_delivery_latency_seconds_bucket{${sel}}${R})))`,
      'p99 {{plugin}}',
    ],
  ],
  { unit: 's' },
);
panel(
  'Provider call duration (p95)',
  'Duration of one send call to the provider.',
  [
    [
      `histogram_quantile(0.95, sum by (plugin, le) (rate(clarion_plugin_send_duration_seconds_bucket{${sel}}${R})))`,
      '{{plugin}}',
    ],
  ],
  { unit: 's' },
);
panel(
  'API request duration',
  'API latency percentiles over all routes, and request rate by status code.',
  [
    [`histogram_quantile(0.5, sum by (le) (rate(clarion_http_request_duration_seconds_bucket${R})))`, 'p50'],
    [`histogram_quantile(0.95, sum by (le) (rate(clarion_http_request_duration_seconds_bucket${R})))`, 'p95'],
    [`histogram_quantile(0.99, sum by (le) (rate(clarion_http_request_duration_seconds_bucket${R})))`, 'p99'],
  ],
  { unit: 's' },
);
panel(
  'API requests by route and status',
  'Requests per second.',
  [
    [
      `sum by (route, status_code) (rate(clarion_http_request_duration_seconds_count${R}))`,
      '{{route}} {{status_code}}',
    ],
  ],
  { unit: 'reqps', w: 24 },
);
endRow();

row('Queues');
panel(
  'Queue depth by state',
  'Jobs per queue and state (max over the exporting processes, which all report the same queues).',
  [
    [
      `max by (queue, state) (clarion_queue_jobs{state=~"waiting|prioritized|active|delayed"})`,
      '{{queue}} {{state}}',
    ],
  ],
);
panel(
  'Oldest waiting job',
  'Age of the oldest job ready to run, per queue.',
  [[`max by (queue) (clarion_queue_oldest_waiting_seconds)`, '{{queue}}']],
  { unit: 's' },
);
panel(
  'Failed jobs and overdue schedules',
  'Jobs in the failed set (dead letters) per queue, and scheduled notifications past due but not enqueued.',
  [
    [`max by (queue) (clarion_queue_jobs{state="failed"})`, 'failed {{queue}}'],
    [`max(clarion_scheduled_overdue_notifications)`, 'scheduled overdue'],
  ],
);
endRow();

row('Suppressions and limits');
panel(
  'Suppressed by reason',
  'Deliveries not sent because of preferences, caps, quiet hours or a missing contact.',
  [[`sum by (reason) (rate(clarion_deliveries_total{status="suppressed",${sel}}${R}))`, '{{reason}}']],
  { unit: 'reqps', w: 12 },
);
panel(
  'Rate-limit hits',
  'Requests or deliveries refused by a rate limit, by scope.',
  [[`sum by (scope) (rate(clarion_rate_limit_hits_total${R}))`, '{{scope}}']],
  { unit: 'reqps', w: 12 },
);
endRow();

row('Providers');
panel(
  'Send attempts by result',
  'Provider answers other than success: retry, throttled (429), permanent, configuration, invalid_address, expired.',
  [
    [
      `sum by (plugin, result) (rate(clarion_plugin_send_attempts_total{result!="sent",${sel}}${R}))`,
      '{{plugin}}: {{result}}',
    ],
  ],
  { unit: 'reqps' },
);
panel(
  'Retries and throttling',
  'Retries scheduled and throttled answers per plugin.',
  [
    [
      `sum by (plugin) (rate(clarion_plugin_send_attempts_total{result=~"retry|throttled",${sel}}${R}))`,
      '{{plugin}}',
    ],
  ],
  { unit: 'reqps' },
);
panel('In flight and health', 'Sends in flight per plugin; health drops to 0 after a configuration error.', [
  [`sum by (plugin) (clarion_plugin_in_flight{plugin=~"$plugin"})`, 'in flight {{plugin}}'],
  [`min by (plugin) (clarion_plugin_healthy{plugin=~"$plugin"})`, 'healthy {{plugin}}'],
]);
endRow();

row('Processes');
panel(
  'CPU',
  'CPU seconds per second by process.',
  [
    [
      `sum by (job, instance) (rate(process_cpu_seconds_total{job=~"clarion-api|clarion-worker"}${R}))`,
      '{{job}} {{instance}}',
    ],
  ],
  { unit: 'percentunit' },
);
panel(
  'Heap used',
  'V8 heap used by process.',
  [
    [
      `sum by (job, instance) (nodejs_heap_size_used_bytes{job=~"clarion-api|clarion-worker"})`,
      '{{job}} {{instance}}',
    ],
  ],
  { unit: 'bytes' },
);
panel(
  'Resident memory',
  'Resident set size by process.',
  [
    [
      `sum by (job, instance) (process_resident_memory_bytes{job=~"clarion-api|clarion-worker"})`,
      '{{job}} {{instance}}',
    ],
  ],
  { unit: 'bytes' },
);
endRow();

const variable = (name, label, query) => ({
  name,
  label,
  type: 'query',
  datasource: ds,
  query: { query, refId: `${name}-var` },
  definition: query,
  includeAll: true,
  allValue: '.*',
  multi: true,
  refresh: 2,
  sort: 1,
  current: { selected: true, text: ['All'], value: ['$__all'] },
  hide: 0,
  options: [],
  regex: '',
});
const dash = {
  title: 'Clarion',
  uid: 'clarion-overview',
  description: 'Clarion notification server: throughput, success, latency, queues, suppressions, providers.',
  tags: ['clarion'],
  timezone: 'browser',
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-3h', to: 'now' },
  fiscalYearStartMonth: 0,
  liveNow: false,
  weekStart: '',
  annotations: {
    list: [
      {
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      },
    ],
  },
  links: [],
  templating: {
    list: [
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        current: {},
        hide: 0,
        includeAll: false,
        multi: false,
        options: [],
        refresh: 1,
        regex: '',
      },
      variable('channel', 'Channel', 'label_values(clarion_deliveries_total, channel)'),
      variable('plugin', 'Plugin', 'label_values(clarion_deliveries_total{channel=~"$channel"}, plugin)'),
    ],
  },
  panels,
};
writeFileSync(process.argv[2], `${JSON.stringify(dash, null, 2)}\n`);
