import type { PluginMetricsFactory } from '@clarion/plugin-sdk';

/** Mailchimp Transactional metrics, named `clarion_mailchimp_…`. */
export function mailchimpMetrics(m: PluginMetricsFactory) {
  return {
    recipientStatus: m.counter(
      'recipient_status_total',
      'Per-recipient send statuses (sent, queued, rejected, invalid), with reject reason',
      ['status', 'reason'] as const,
    ),
    requestErrors: m.counter(
      'request_errors_total',
      'Failed API requests by Mandrill error name or HTTP status',
      ['name'] as const,
    ),
  };
}
