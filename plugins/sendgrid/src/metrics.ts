import type { PluginMetricsFactory } from '@clarion/plugin-sdk';

/** SendGrid-specific metrics, named `clarion_sendgrid_…`. */
export function sendgridMetrics(m: PluginMetricsFactory) {
  return {
    rateLimited: m.counter(
      'rate_limited_total',
      'Mail Send requests answered 429 (the queue pauses until X-RateLimit-Reset)',
    ),
    errors: m.counter('errors_total', 'Failed Mail Send requests by HTTP status', ['status'] as const),
    derivedText: m.counter('derived_text_total', 'E-mails whose plain-text part was derived from the HTML'),
  };
}
