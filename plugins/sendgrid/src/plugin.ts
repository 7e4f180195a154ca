import { defineChannelPlugin, isSendError, PermanentError, type SendResult } from '@clarion/plugin-sdk';

import sgMail = require('@sendgrid/mail');

import { plainTextOf, splitMailbox, textIsDerived } from '@clarion/plugin-sdk/email';
import { sendgridCallbacks } from './callbacks';
import { classifySendgridError } from './classify';
import { sendgridAppConfig, sendgridConfig } from './config';
import { MailBatcher, type SharedMail } from './mail-batcher';
import { sendgridMetrics } from './metrics';
import { SendgridTransport } from './transport';
import { PLUGIN_VERSION, pkg } from './version';

// The package exports a singleton whose typings hide the class also exported at runtime
// (`require('@sendgrid/mail').MailService`).
type MailService = typeof sgMail;
type MailDataRequired = Exclude<Parameters<MailService['send']>[0], unknown[]>;
type SendgridClient = Parameters<MailService['setClient']>[0];
const { MailService } = sgMail as unknown as { MailService: new () => MailService };

export const sendgridPlugin = defineChannelPlugin({
  name: 'sendgrid',
  version: PLUGIN_VERSION,
  sdkVersion: pkg.sdkRange,
  channel: 'email',
  addressKind: 'email',
  config: sendgridConfig,
  callbacks: sendgridCallbacks,
  appConfig: sendgridAppConfig,
  // v3 Mail Send has no fixed per-second quota (it answers 429 with X-RateLimit-Reset when an
  // account is over its plan); the queue pauses on that, so no limiter by default.
  // 200 sends in flight: a campaign's sends share requests (mail-batcher.ts), so many in flight
  // make a few large requests; alone, the pool's 64 connections take them in turn.
  processor: { concurrency: 200, attempts: 8, backoff: { baseMs: 2000, maxMs: 10 * 60_000 } },
  metrics: sendgridMetrics,
  async createSender({ config, metrics }) {
    const services = new Map<string, MailService>();
    // One keep-alive pool for every API key: the connection carries no identity, the header does.
    const pool = SendgridTransport.pool(config.baseUrl, config.timeoutMs);
    const base = new URL(config.baseUrl);
    const serviceFor = (apiKey: string) => {
      let service = services.get(apiKey);
      if (!service) {
        // Own MailService instead of the module singleton, one per API key, on the pooled transport.
        service = new MailService();
        service.setClient(new SendgridTransport(pool, base, apiKey) as unknown as SendgridClient);
        services.set(apiKey, service);
      }
      return service;
    };
    // E-mails sent together with the same content go as one request (SendGrid personalizations).
    const batcher = new MailBatcher(async (apiKey, mail) => {
      const [response] = await serviceFor(apiKey).send(mail as unknown as MailDataRequired);
      const messageId = response.headers['x-message-id'];
      return {
        messageId: typeof messageId === 'string' ? messageId : undefined,
        status: response.statusCode,
      };
    }, classifySendgridError);

    return {
      async send(job, { appConfig }): Promise<SendResult> {
        if (job.address.kind !== 'email') {
          throw new PermanentError(`sendgrid sends to e-mail addresses, not ${job.address.kind} addresses`, {
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

        const from = content.from ?? appConfig?.from ?? config.from;
        const fromName = appConfig?.fromName ?? config.fromName;
        const replyTo = content.replyTo ?? appConfig?.replyTo ?? config.replyTo;
        const parts = [
          ...(text ? [{ type: 'text/plain', value: text }] : []),
          ...(content.html ? [{ type: 'text/html', value: content.html }] : []),
        ];
        const mail: SharedMail = {
          from: content.from
            ? splitMailbox(content.from)
            : { email: from, ...(fromName ? { name: fromName } : {}) },
          ...(replyTo ? { replyTo: splitMailbox(replyTo) } : {}),
          subject: content.subject,
          // text/plain first, as SendGrid requires; plainTextOf guarantees it whenever there is HTML.
          content: parts,
          ...(job.category ? { categories: [job.category] } : {}),
        };
        try {
          return await batcher.send(appConfig?.apiKey ?? config.apiKey, mail, {
            to: { email: job.address.email, ...(job.address.name ? { name: job.address.name } : {}) },
            // List-Unsubscribe and List-Unsubscribe-Post come from the core in content.headers.
            ...(content.headers ? { headers: content.headers } : {}),
            // Echoed on every event webhook post: this is how SendGrid events map back to the delivery.
            customArgs: { deliveryId: job.deliveryId, notificationId: job.notificationId, appId: job.appId },
          });
        } catch (error) {
          const classified = isSendError(error) ? error : classifySendgridError(error);
          if (classified.status === 429) metrics?.rateLimited.inc();
          metrics?.errors.inc({ status: String(classified.status ?? classified.code ?? 'network') });
          throw classified;
        }
      },
      async close() {
        services.clear();
        // Twice is fine (the runtime and a host may both close it): undici refuses a second close.
        if (!pool.closed) await pool.close();
      },
    };
  },
});

export default sendgridPlugin;
