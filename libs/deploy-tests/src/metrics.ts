/** Metric names the Clarion processes export (the server's and the plugin SDK's). */
export const CLARION_METRICS = [
  'clarion_http_request_duration_seconds',
  'clarion_notifications_accepted_total',
  'clarion_notifications_deduplicated_total',
  'clarion_deliveries_total',
  'clarion_rate_limit_hits_total',
  'clarion_queue_jobs',
  'clarion_queue_oldest_waiting_seconds',
  'clarion_scheduled_overdue_notifications',
  'clarion_plugin_send_attempts_total',
  'clarion_plugin_send_duration_seconds',
  'clarion_delivery_latency_seconds',
  'clarion_plugin_in_flight',
  'clarion_plugin_healthy',
  'clarion_tracking_events_total',
  'clarion_fanout_backlog_waits_total',
  'clarion_redis_up',
];
const HISTOGRAMS = new Set([
  'clarion_http_request_duration_seconds',
  'clarion_plugin_send_duration_seconds',
  'clarion_delivery_latency_seconds',
]);

/** True for a series name a query may use: a Clarion metric (histogram series included), up, or prom-client defaults. */
export function isKnownMetric(name: string): boolean {
  if (name === 'up') return true;
  if (/^(process|nodejs)_[a-z0-9_]+$/.test(name)) return true;
  for (const m of CLARION_METRICS) {
    if (name === m) return !HISTOGRAMS.has(m);
    if (HISTOGRAMS.has(m) && [`${m}_bucket`, `${m}_sum`, `${m}_count`].includes(name)) return true;
  }
  return false;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression (label matchers, grouping labels, strings, functions removed). */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const [, word, call] = m;
    if (!word || call || KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
