import { defineChannelPlugin, PermanentError, type SendResult } from '@clarion/plugin-sdk';
import { plainTextOf, textIsDerived } from '@clarion/plugin-sdk/email';
import { classifySmtpError } from './classify';
import { type SmtpAppConfig, smtpAppConfig, smtpConfig } from './config';
import { smtpMetrics } from './metrics';
import { createPooledTransport, type PooledTransport } from './transport';
import { PLUGIN_VERSION, pkg } from './version';

export const smtpPlugin = defineChannelPlugin({
  name: 'smtp',
  version: PLUGIN_VERSION,
  sdkVersion: pkg.sdkRange,
  channel: 'email',
  addressKind: 'email',
  config: smtpConfig,
  appConfig: smtpAppConfig,
  // A pool of 5 connections pipelines one message at a time each; 20 jobs in flight keep every
  // connection busy while the next messages wait in nodemailer's queue, not in Redis.
  processor: { concurrency: 20, attempts: 8, backoff: { baseMs: 5000, maxMs: 30 * 60_000 } },
  metrics: smtpMetrics,
  async createSender({ config, metrics }) {
    const main = createPooledTransport(config);
    const perApp = new Map<string, PooledTransport>();
    const transportFor = (app: SmtpAppConfig | undefined) => {
      if (!app) return main;
      const key = `${app.host}:${app.port}:${app.user ?? ''}:${app.pass ?? ''}:${app.secure}:${app.requireTls}`;
      let transport = perApp.get(key);
      if (!transport) {
        // An app's own server: its TLS is always verified against the system CAs.
        transport = createPooledTransport({ ...app, timeoutMs: config.timeoutMs, maxConnections: 2 });
        perApp.set(key, transport);
      }
      return transport;
    };
    let closed = false;

    return {
      async send(job, { appConfig }): Promise<SendResult> {
        if (job.address.kind !== 'email') {
          throw new PermanentError(`smtp sends to e-mail addresses, not ${job.address.kind} addresses`, {
            code: 'wrong_address_kind',
          });
        }
        const { content } = job;
        const text = plainTextOf(content);
        if (!content.subject)
          throw new PermanentError('the e-mail has no subject', { code: 'empty_subject' });
        if (!text && !content.html)
          throw new PermanentError('the e-mail has no body', { code: 'empty_body' });
        if (textIsDerived(content)) metrics?.derivedText.inc();
        const fromAddress = content.from ?? appConfig?.from ?? config.from;
        const fromName = appConfig?.fromName ?? config.fromName;
        const replyTo = content.replyTo ?? appConfig?.replyTo ?? config.replyTo;
        try {
          const info = await transportFor(appConfig).sendMail({
            from: fromName && !content.from ? { name: fromName, address: fromAddress } : fromAddress,
            to: job.address.name ? { name: job.address.name, address: job.address.email } : job.address.email,
            ...(replyTo ? { replyTo } : {}),
            subject: content.subject,
            ...(text ? { text } : {}),
            ...(content.html ? { html: content.html } : {}),
            // The core's List-Unsubscribe / List-Unsubscribe-Post arrive here; the delivery id helps trace bounces.
            headers: { ...content.headers, 'X-Clarion-Delivery-Id': job.deliveryId },
          });
          if (info.rejected.length > 0) {
            // Only reached with several recipients; ours has one, so a refusal throws EENVELOPE instead.
            metrics?.rejectedRecipients.inc(info.rejected.length);
          }
          return { providerMessageId: info.messageId, details: { response: info.response.slice(0, 200) } };
        } catch (error) {
          const classified = classifySmtpError(error);
          if (classified.kind === 'invalid_address') metrics?.rejectedRecipients.inc();
          metrics?.errors.inc({ code: classified.code ?? 'unknown' });
          throw classified;
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        main.close();
        for (const transport of perApp.values()) transport.close();
      },
    };
  },
});

export default smtpPlugin;
