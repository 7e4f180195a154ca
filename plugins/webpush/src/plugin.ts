import {
  defineChannelPlugin,
  InvalidAddressError,
  outboundRefusal,
  PermanentError,
  type Priority,
  refusedUrl,
  STRICT_OUTBOUND,
} from '@clarion/plugin-sdk';
import type { Counter } from 'prom-client';
import webpush, { type Urgency } from 'web-push';
import { CountingAgent } from './agent';
import { webPushAppConfig, webPushConfig } from './config';
import { classifyWebPushError } from './errors';
import { webPushKeysProblem } from './keys';
import { buildWebPushPayload, pushTopic, pushTtl } from './payload';
import { pkg, version } from './version';

export interface WebPushMetrics {
  invalidSubscriptions: Counter<'status'>;
  configurationErrors: Counter<'status'>;
  connectionsOpened: Counter;
}

const URGENCY: Record<Priority, Urgency> = { high: 'high', normal: 'normal', low: 'low' };

export const webPushPlugin = defineChannelPlugin({
  name: 'webpush',
  version,
  sdkVersion: pkg.sdkRange,
  channel: 'web',
  platforms: ['web'],
  addressKind: 'device',
  config: webPushConfig,
  appConfig: webPushAppConfig,
  processor: { concurrency: 100, attempts: 8, backoff: { baseMs: 1000, maxMs: 10 * 60_000 } },
  // The endpoint is the browser's (or a hostile client's) choice: each push service origin is its own destination.
  circuitKey: (job) => {
    const endpoint = job.address.kind === 'device' ? job.address.subscription?.endpoint : undefined;
    return endpoint !== undefined && URL.canParse(endpoint) ? new URL(endpoint).origin : undefined;
  },
  metrics: (m): WebPushMetrics => ({
    invalidSubscriptions: m.counter(
      'invalid_subscriptions_total',
      'Subscriptions push services reported gone (404/410) or malformed',
      ['status'],
    ),
    configurationErrors: m.counter(
      'configuration_errors_total',
      'Sends refused for VAPID problems (401/403, bad keys)',
      ['status'],
    ),
    connectionsOpened: m.counter(
      'connections_opened_total',
      'TLS connections opened to push services (keep-alive, so this should stay low)',
    ),
  }),
  async createSender({ config, metrics, outbound = STRICT_OUTBOUND }) {
    const agent = new CountingAgent(
      { keepAlive: true, maxSockets: config.maxSockets, ...(config.caPem ? { ca: config.caPem } : {}) },
      outbound,
      () => metrics?.connectionsOpened.inc(),
    );
    let closed = false;
    return {
      async send(job, { appConfig }) {
        const address = job.address;
        const subscription = address.kind === 'device' ? address.subscription : undefined;
        if (!subscription?.endpoint || !subscription.keys?.p256dh || !subscription.keys?.auth) {
          throw new PermanentError(`delivery ${job.deliveryId} has no Web Push subscription`, {
            code: 'missing_subscription',
          });
        }
        const unusable = refusedUrl(subscription.endpoint, outbound);
        if (unusable) throw refusedEndpoint(unusable);
        const badKeys = webPushKeysProblem(subscription.keys);
        if (badKeys) {
          metrics?.invalidSubscriptions.inc({ status: 'invalid_keys' });
          throw new InvalidAddressError(`Web Push subscription: ${badKeys}`, {
            code: 'invalid_subscription',
            reason: 'invalid',
          });
        }
        // An app's own key pair wins as a whole: mixing halves of two pairs can never verify.
        const own = appConfig?.vapidPublicKey !== undefined && appConfig.vapidPrivateKey !== undefined;
        const vapidDetails = {
          subject: appConfig?.vapidSubject ?? config.vapidSubject ?? '',
          publicKey: (own ? appConfig.vapidPublicKey : config.vapidPublicKey) ?? '',
          privateKey: (own ? appConfig.vapidPrivateKey : config.vapidPrivateKey) ?? '',
        };
        if (!vapidDetails.subject || !vapidDetails.publicKey || !vapidDetails.privateKey) {
          throw new PermanentError('no VAPID keys and subject configured', {
            configuration: true,
            code: 'missing_vapid',
          });
        }
        const payload = buildWebPushPayload(job);
        try {
          const res = await webpush.sendNotification(subscription, payload, {
            vapidDetails,
            TTL: pushTtl(job.expiresAt),
            urgency: job.pushType === 'background' ? 'low' : URGENCY[job.priority],
            ...(job.collapseKey !== undefined ? { topic: pushTopic(job.collapseKey) } : {}),
            contentEncoding: 'aes128gcm',
            agent,
            timeout: config.timeoutMs,
          });
          const location = res.headers.location;
          return {
            ...(typeof location === 'string' ? { providerMessageId: location } : {}),
            details: { status: res.statusCode },
          };
        } catch (thrown) {
          const refusal = outboundRefusal(thrown);
          if (refusal) throw refusedEndpoint(refusal.reason);
          const { error, kind } = classifyWebPushError(thrown);
          if (kind === 'invalid_subscription')
            metrics?.invalidSubscriptions.inc({ status: error.code ?? 'unknown' });
          if (kind === 'configuration') metrics?.configurationErrors.inc({ status: error.code ?? 'unknown' });
          throw error;
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        agent.destroy();
      },
    };
  },
});

/** An endpoint the outbound guard refuses: the subscription can never be used. */
function refusedEndpoint(reason: string): InvalidAddressError {
  return new InvalidAddressError(`Web Push endpoint refused: ${reason}`, {
    code: 'address_refused',
    reason: 'invalid',
  });
}

export default webPushPlugin;
