import { defineChannelPlugin, PermanentError, type Priority } from '@clarion/plugin-sdk';
import type { Counter } from 'prom-client';
import webpush, { type Urgency } from 'web-push';
import { CountingAgent } from './agent';
import { webPushAppConfig, webPushConfig } from './config';
import { classifyWebPushError } from './errors';
import { buildWebPushPayload, pushTopic, pushTtl } from './payload';
import { version } from './version';

export interface WebPushMetrics {
  invalidSubscriptions: Counter<'status'>;
  configurationErrors: Counter<'status'>;
  connectionsOpened: Counter;
}

const URGENCY: Record<Priority, Urgency> = { high: 'high', normal: 'normal', low: 'low' };

export const webPushPlugin = defineChannelPlugin({
  name: 'webpush',
  version,
  sdkVersion: '^0.1.0',
  channel: 'web',
  platforms: ['web'],
  addressKind: 'device',
  config: webPushConfig,
  appConfig: webPushAppConfig,
  processor: { concurrency: 100, attempts: 8, backoff: { baseMs: 1000, maxMs: 10 * 60_000 } },
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
  async createSender({ config, metrics }) {
    const agent = new CountingAgent(
      { keepAlive: true, maxSockets: config.maxSockets, ...(config.caPem ? { ca: config.caPem } : {}) },
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

export default webPushPlugin;
