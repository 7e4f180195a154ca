import type { PluginMetricsFactory } from '@clarion/plugin-sdk';

/** Vonage-specific metrics, named `clarion_vonage_…`. */
export function vonageMetrics(m: PluginMetricsFactory) {
  return {
    segments: m.counter('segments_total', 'SMS parts sent (Vonage bills per part), by encoding', [
      'encoding',
    ] as const),
    statuses: m.counter('status_total', 'Vonage SMS API status codes received for failed sends', [
      'status',
    ] as const),
    partialFailures: m.counter(
      'partial_failures_total',
      'Long messages of which only some parts were accepted',
    ),
  };
}
