import { defineChannelPlugin, PermanentError } from '@clarion/plugin-sdk';
import type { Counter } from 'prom-client';
import { FcmClient, FcmSendError } from './client';
import { fcmAppConfig, fcmConfig } from './config';
import { buildFcmMessage } from './message';
import { pkg, version } from './version';

export interface FcmMetrics {
  invalidTokens: Counter<'reason'>;
  tokenRefreshes: Counter;
  configurationErrors: Counter<'reason'>;
  connectionsOpened: Counter;
}

export const fcmPlugin = defineChannelPlugin({
  name: 'fcm',
  version,
  sdkVersion: pkg.sdkRange,
  channel: 'push',
  platforms: ['android'],
  addressKind: 'device',
  config: fcmConfig,
  appConfig: fcmAppConfig,
  processor: { concurrency: 200, attempts: 8, backoff: { baseMs: 1000, maxMs: 10 * 60_000 } },
  metrics: (m): FcmMetrics => ({
    invalidTokens: m.counter('invalid_tokens_total', 'Registration tokens FCM reported dead or malformed', [
      'reason',
    ]),
    tokenRefreshes: m.counter('token_refreshes_total', 'OAuth access tokens fetched for service accounts'),
    configurationErrors: m.counter(
      'configuration_errors_total',
      'Sends refused for a configuration problem (sender mismatch, auth)',
      ['reason'],
    ),
    connectionsOpened: m.counter(
      'connections_opened_total',
      'Connections opened to FCM (pooled HTTP/2, so this should stay low)',
    ),
  }),
  async createSender({ config, metrics }) {
    const client = new FcmClient(config, {
      onConnect: () => metrics?.connectionsOpened.inc(),
      onTokenRefresh: () => metrics?.tokenRefreshes.inc(),
    });
    let closed = false;
    return {
      async send(job, { appConfig, attempt }) {
        const address = job.address;
        if (address.kind !== 'device' || !address.token) {
          throw new PermanentError(`delivery ${job.deliveryId} has no FCM registration token`, {
            code: 'missing_token',
          });
        }
        const useApp = appConfig?.serviceAccountJson !== undefined;
        const project = client.project(
          useApp ? appConfig.serviceAccountJson : config.serviceAccountJson,
          (useApp ? appConfig.projectId : undefined) ?? appConfig?.projectId ?? config.projectId,
          useApp ? appConfig.quotaPerMinute : undefined,
        );
        const message = buildFcmMessage(job, address.token);
        try {
          const name = await client.send(project, message);
          return { providerMessageId: name };
        } catch (thrown) {
          if (!(thrown instanceof FcmSendError)) throw thrown;
          const { error, kind } = thrown;
          if (kind === 'invalid_token')
            metrics?.invalidTokens.inc({ reason: (error as { code?: string }).code ?? 'unknown' });
          if (kind === 'configuration')
            metrics?.configurationErrors.inc({ reason: (error as { code?: string }).code ?? 'unknown' });
          if (kind === 'unauthenticated' && attempt > 1) {
            // A fresh token was already refused once: the key itself is bad.
            metrics?.configurationErrors.inc({ reason: 'UNAUTHENTICATED' });
            throw new PermanentError(error.message, {
              configuration: true,
              code: 'UNAUTHENTICATED',
              status: 401,
            });
          }
          throw error;
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        await client.close();
      },
    };
  },
});

export default fcmPlugin;
