import { defineChannelPlugin, PermanentError, type SendResult } from '@clarion/plugin-sdk';
import { plainTextOf, splitMailbox } from '@clarion/plugin-sdk/email';
import mailchimpTransactional from '@mailchimp/mailchimp_transactional';
import { mailchimpCallbacks } from './callbacks';
import {
  classifyRecipientResult,
  classifyRequestError,
  isAxiosErrorLike,
  type MandrillRecipientResult,
} from './classify';
import { mailchimpAppConfig, mailchimpConfig } from './config';
import { mailchimpMetrics } from './metrics';
import { PLUGIN_VERSION, pkg } from './version';

type ApiClient = ReturnType<typeof mailchimpTransactional>;
type SendRequest = Parameters<ApiClient['messages']['send']>[0];
type Metadata = NonNullable<SendRequest['message']['metadata']>;
const ACCEPTED = new Set(['sent', 'queued', 'scheduled']);

export const mailchimpPlugin = defineChannelPlugin({
  name: 'mailchimp',
  version: PLUGIN_VERSION,
  sdkVersion: pkg.sdkRange,
  channel: 'email',
  addressKind: 'email',
  config: mailchimpConfig,
  callbacks: mailchimpCallbacks,
  appConfig: mailchimpAppConfig,
  // Mailchimp Transactional has no published per-second cap; it answers 429 when an account
  // exceeds its hourly quota, which pauses the queue. No limiter by default.
  processor: { concurrency: 50, attempts: 8, backoff: { baseMs: 2000, maxMs: 10 * 60_000 } },
  metrics: mailchimpMetrics,
  async createSender({ config, metrics }) {
    const clients = new Map<string, ApiClient>();
    const clientFor = (apiKey: string) => {
      let client = clients.get(apiKey);
      if (!client) {
        client = mailchimpTransactional(apiKey);
        // basePath is a public property of the client (src/ApiClient.js), the only way to redirect it.
        (client as ApiClient & { basePath: string }).basePath = config.baseUrl.replace(/\/+$/, '');
        // The timeout lives on the module's shared axios instance (default 300 s): set it for all.
        (client as ApiClient & { setDefaultTimeoutMs(ms: number): void }).setDefaultTimeoutMs(
          config.timeoutMs,
        );
        clients.set(apiKey, client);
      }
      return client;
    };

    return {
      async send(job, { appConfig }): Promise<SendResult> {
        if (job.address.kind !== 'email') {
          throw new PermanentError(`mailchimp sends to e-mail addresses, not ${job.address.kind} addresses`, {
            code: 'wrong_address_kind',
          });
        }
        const { content } = job;
        const email = job.address.email;
        const text = plainTextOf(content);
        if (!content.subject)
          throw new PermanentError('the e-mail has no subject', { code: 'empty_subject' });
        if (!text && !content.html)
          throw new PermanentError('the e-mail has no body', { code: 'empty_body' });
        const replyTo = content.replyTo ?? appConfig?.replyTo ?? config.replyTo;
        const fromName = appConfig?.fromName ?? config.fromName;
        const given = content.from ? splitMailbox(content.from) : undefined;
        const from = { email: given?.email ?? appConfig?.from ?? config.from, name: given?.name ?? fromName };
        const subaccount = appConfig?.subaccount ?? (appConfig ? undefined : config.subaccount);
        const request: SendRequest = {
          message: {
            subject: content.subject,
            ...(content.html ? { html: content.html } : {}),
            ...(text ? { text } : {}),
            from_email: from.email,
            ...(from.name ? { from_name: from.name } : {}),
            to: [
              {
                email: job.address.email,
                ...(job.address.name ? { name: job.address.name } : {}),
                type: 'to',
              },
            ],
            // List-Unsubscribe / List-Unsubscribe-Post from the core, and Reply-To (a header in Mandrill).
            headers: { ...content.headers, ...(replyTo ? { 'Reply-To': replyTo } : {}) },
            ...(job.category ? { tags: [job.category] } : {}),
            // Metadata comes back on every webhook event: it maps events to the delivery.
            // (@types/mailchimp__mailchimp_transactional wrongly makes `website` mandatory here.)
            metadata: {
              deliveryId: job.deliveryId,
              notificationId: job.notificationId,
            } as unknown as Metadata,
            ...(subaccount ? { subaccount } : {}),
          },
        };
        // The client resolves errors instead of throwing them: the result is either the per-recipient array or an AxiosError.
        const result: unknown = await clientFor(appConfig?.apiKey ?? config.apiKey).messages.send(request);
        if (!Array.isArray(result)) {
          const error = isAxiosErrorLike(result)
            ? classifyRequestError(result)
            : classifyRequestError({ message: `unexpected answer: ${JSON.stringify(result).slice(0, 200)}` });
          metrics?.requestErrors.inc({ name: error.code ?? 'unknown' });
          throw error;
        }
        const recipient =
          (result as MandrillRecipientResult[]).find((r) => r.email.toLowerCase() === email.toLowerCase()) ??
          (result[0] as MandrillRecipientResult | undefined);
        if (!recipient) throw classifyRequestError({ message: 'empty answer' });
        metrics?.recipientStatus.inc({ status: recipient.status, reason: recipient.reject_reason ?? '' });
        if (!ACCEPTED.has(recipient.status)) throw classifyRecipientResult(recipient);
        return {
          ...(recipient._id ? { providerMessageId: recipient._id } : {}),
          details: { status: recipient.status },
        };
      },
      async close() {
        clients.clear();
      },
    };
  },
});

export default mailchimpPlugin;
