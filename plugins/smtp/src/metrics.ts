import type { PluginMetricsFactory } from '@clarion/plugin-sdk';

/** SMTP-specific metrics, named `clarion_smtp_…`. */
export function smtpMetrics(m: PluginMetricsFactory) {
  return {
    rejectedRecipients: m.counter(
      'rejected_recipients_total',
      'Recipients the server refused at RCPT TO (5xx)',
    ),
    errors: m.counter('errors_total', 'Failed sends by SMTP reply code or nodemailer error code', [
      'code',
    ] as const),
    derivedText: m.counter('derived_text_total', 'E-mails whose plain-text part was derived from the HTML'),
  };
}
