import {
  countSmsSegments,
  defineChannelPlugin,
  InvalidAddressError,
  isE164,
  PermanentError,
  type SendResult,
} from '@clarion/plugin-sdk';
import { Vonage } from '@vonage/server-sdk';
import { vonageCallbacks } from './callbacks';
import { classifyVonageStatus, classifyVonageTransportError, type VonageMessageStatus } from './classify';
import { type VonageAppConfig, vonageAppConfig, vonageConfig } from './config';
import { vonageMetrics } from './metrics';
import { PLUGIN_VERSION, pkg } from './version';

type SmsParams = NonNullable<Parameters<Vonage['sms']['send']>[0]>;

/** What the SDK's MessageSendAllFailure / MessageSendPartialFailure carry (an SMSFailure). */
interface SmsFailure {
  response: { messages?: VonageMessageStatus[] };
  getFailedMessages(): VonageMessageStatus[];
  getSuccessfulMessages(): VonageMessageStatus[];
}
const isSmsFailure = (e: unknown): e is SmsFailure =>
  typeof (e as SmsFailure)?.getFailedMessages === 'function' &&
  typeof (e as SmsFailure)?.getSuccessfulMessages === 'function';

export const vonagePlugin = defineChannelPlugin({
  name: 'vonage',
  version: PLUGIN_VERSION,
  sdkVersion: pkg.sdkRange,
  channel: 'sms',
  addressKind: 'phone',
  config: vonageConfig,
  callbacks: vonageCallbacks,
  appConfig: vonageAppConfig,
  // The SMS API accepts 30 requests/s per API key by default (more on request); beyond it answers
  // status 1 (throttled). The limiter keeps the queue at that pace instead of bouncing off it.
  processor: {
    concurrency: 30,
    limiter: { max: 30, durationMs: 1000 },
    attempts: 6,
    backoff: { baseMs: 2000, maxMs: 5 * 60_000 },
  },
  metrics: vonageMetrics,
  async createSender({ config, metrics }) {
    const clients = new Map<string, Vonage>();
    const clientFor = (account: VonageAppConfig) => {
      const key = `${account.apiKey}:${account.apiSecret}`;
      let client = clients.get(key);
      if (!client) {
        // restHost is a supported option (ConfigParams): it is how the sandbox is reached.
        // privateKey '': without one @vonage/auth calls fs.existsSync(undefined) (a deprecation warning).
        client = new Vonage(
          { apiKey: account.apiKey, apiSecret: account.apiSecret, privateKey: '' },
          { restHost: config.restHost.replace(/\/+$/, ''), timeout: config.timeoutMs },
        );
        clients.set(key, client);
      }
      return client;
    };

    return {
      async send(job, { appConfig }): Promise<SendResult> {
        if (job.address.kind !== 'phone') {
          throw new PermanentError(`vonage sends to phone numbers, not ${job.address.kind} addresses`, {
            code: 'wrong_address_kind',
          });
        }
        const phone = job.address.phone;
        if (!isE164(phone))
          throw new InvalidAddressError(`"${phone}" is not an E.164 number`, {
            code: 'not_e164',
            reason: 'invalid',
          });
        const text = job.content.text ?? job.content.body ?? '';
        if (text.trim() === '') throw new PermanentError('the SMS has no text', { code: 'empty_body' });
        const segments = countSmsSegments(text);
        const account: VonageAppConfig = appConfig ?? config;
        const callback = account.statusCallbackUrl ?? (appConfig ? undefined : config.statusCallbackUrl);
        const params: SmsParams = {
          to: phone.slice(1), // Vonage wants the international number without `+`
          from: account.from,
          text,
          // Without type=unicode Vonage sends GSM-7 and the handset shows `?` for everything else.
          ...(segments.encoding === 'UCS-2' ? { type: 'unicode' as SmsParams['type'] } : {}),
          // Delivery receipts carry client-ref back, which maps them to this delivery.
          clientRef: job.deliveryId,
          ...(callback ? { callback } : {}),
          ...(job.expiresAt ? { ttl: ttl(job.expiresAt) } : {}),
        };
        let sent: { messageCount?: number | string; messages?: VonageMessageStatus[] };
        try {
          sent = (await clientFor(account).sms.send(params)) as typeof sent;
        } catch (error) {
          if (isSmsFailure(error)) {
            const ok = error.getSuccessfulMessages();
            const failed = error.getFailedMessages()[0] ?? { status: '5', errorText: 'no status' };
            if (ok.length > 0) {
              // Some parts went out: retrying would send those again, so the delivery counts as sent.
              metrics?.partialFailures.inc();
              metrics?.segments.inc({ encoding: segments.encoding }, ok.length);
              return {
                ...(ok[0]?.messageId ? { providerMessageId: ok[0].messageId } : {}),
                details: {
                  segments: segments.segments,
                  encoding: segments.encoding,
                  partsAccepted: ok.length,
                  partialFailureStatus: failed.status,
                },
              };
            }
            metrics?.statuses.inc({ status: failed.status });
            throw classifyVonageStatus(failed);
          }
          throw classifyVonageTransportError(error);
        }
        const parts = sent.messages ?? [];
        metrics?.segments.inc({ encoding: segments.encoding }, segments.segments);
        return {
          ...(parts[0]?.messageId ? { providerMessageId: parts[0].messageId } : {}),
          details: {
            segments: segments.segments,
            encoding: segments.encoding,
            vonageParts: Number(sent.messageCount ?? parts.length),
          },
        };
      },
      async close() {
        // The SDK uses the global fetch (undici's shared pool); nothing of ours to release.
        clients.clear();
      },
    };
  },
});

/** Vonage `ttl` in ms: 20 s to 7 days. */
function ttl(expiresAt: string): number {
  return Math.min(7 * 24 * 3600_000, Math.max(20_000, Date.parse(expiresAt) - Date.now()));
}

export default vonagePlugin;
