import {
  countSmsSegments,
  defineChannelPlugin,
  InvalidAddressError,
  isE164,
  PermanentError,
} from '@clarion/plugin-sdk';
import type twilio from 'twilio';
import { twilioCallbacks } from './callbacks';
import { classifyTwilioError } from './classify';
import { createTwilioClient, responseNotes } from './client';
import { type TwilioAppConfig, twilioAppConfig, twilioConfig } from './config';
import { twilioMetrics } from './metrics';
import { PLUGIN_VERSION, pkg } from './version';

export const twilioPlugin = defineChannelPlugin({
  name: 'twilio',
  version: PLUGIN_VERSION,
  sdkVersion: pkg.sdkRange,
  channel: 'sms',
  addressKind: 'phone',
  config: twilioConfig,
  callbacks: twilioCallbacks,
  appConfig: twilioAppConfig,
  // Twilio accepts API requests far faster than carriers deliver and queues the rest per sender
  // (1 segment/s for a US long code, 3 for toll-free, 100+ for short codes and Messaging
  // Services). 100 sends/s and 50 in flight stay under the account's ~100 concurrent requests
  // without building a queue at Twilio longer than a message's validity period.
  processor: {
    concurrency: 50,
    limiter: { max: 100, durationMs: 1000 },
    attempts: 6,
    backoff: { baseMs: 2000, maxMs: 5 * 60_000 },
  },
  metrics: twilioMetrics,
  async createSender({ config, metrics }) {
    const transport = { baseUrl: config.baseUrl, timeoutMs: config.timeoutMs, maxSockets: config.maxSockets };
    const clients = new Map<string, twilio.Twilio>();
    const clientFor = (credentials: TwilioAppConfig) => {
      const key = `${credentials.accountSid}:${credentials.apiKeySid ?? ''}:${credentials.authToken ?? credentials.apiKeySecret ?? ''}`;
      let client = clients.get(key);
      if (!client) {
        client = createTwilioClient(credentials, transport);
        clients.set(key, client);
      }
      return client;
    };

    return {
      async send(job, { appConfig }) {
        if (job.address.kind !== 'phone') {
          throw new PermanentError(`twilio sends to phone numbers, not ${job.address.kind} addresses`, {
            code: 'wrong_address_kind',
          });
        }
        const to = job.address.phone;
        if (!isE164(to))
          throw new InvalidAddressError(`"${to}" is not an E.164 number`, {
            code: 'not_e164',
            reason: 'invalid',
          });
        const text = job.content.text ?? job.content.body ?? '';
        if (text.trim() === '') throw new PermanentError('the SMS has no text', { code: 'empty_body' });
        const segments = countSmsSegments(text);

        // An app's own account replaces the process-wide one entirely (credentials and sender).
        const account: TwilioAppConfig = appConfig ?? config;
        const sender = account.messagingServiceSid
          ? { messagingServiceSid: account.messagingServiceSid }
          : { from: account.from! };
        const statusCallback =
          account.statusCallbackUrl ?? (appConfig ? undefined : config.statusCallbackUrl);
        const notes: { retryAfter?: string } = {};
        try {
          const message = await responseNotes.run(notes, () =>
            clientFor(account).messages.create({
              to,
              body: text,
              ...sender,
              // The delivery id rides on the callback URL: a callback that overtakes our own `sent` record still finds its delivery.
              ...(statusCallback ? { statusCallback: withDeliveryId(statusCallback, job.deliveryId) } : {}),
              // A message still queued at Twilio after the notification's TTL is worthless.
              ...(job.expiresAt ? { validityPeriod: validity(job.expiresAt) } : {}),
            }),
          );
          metrics?.segments.inc({ encoding: segments.encoding }, segments.segments);
          return {
            providerMessageId: message.sid,
            details: {
              segments: segments.segments,
              encoding: segments.encoding,
              // Twilio's own count, when it differs from ours the delivery record shows both.
              twilioSegments: Number(message.numSegments ?? segments.segments),
              status: message.status,
            },
          };
        } catch (error) {
          const classified = classifyTwilioError(error, notes.retryAfter);
          if (classified instanceof InvalidAddressError && classified.reason === 'opted_out')
            metrics?.optOuts.inc();
          metrics?.errors.inc({ code: classified.code ?? 'unknown' });
          throw classified;
        }
      },
      async close() {
        // twilio-node has no close(); its agents hold only idle keep-alive sockets, which Node unrefs.
        clients.clear();
      },
    };
  },
});

/** Seconds left until the delivery expires, clamped to Twilio's ValidityPeriod range (1 s – 36 h… 4 h default). */
function validity(expiresAt: string): number {
  const seconds = Math.ceil((Date.parse(expiresAt) - Date.now()) / 1000);
  return Math.min(36 * 3600, Math.max(1, seconds));
}

export default twilioPlugin;

/** Adds `clarionDelivery=<id>` to the status callback URL (Twilio signs the URL as given, query included). */
function withDeliveryId(url: string, deliveryId: string): string {
  const u = new URL(url);
  u.searchParams.set('clarionDelivery', deliveryId);
  return u.toString();
}
