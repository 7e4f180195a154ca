import { defineChannelPlugin, PermanentError } from '@clarion/plugin-sdk';
import type { Counter, Gauge } from 'prom-client';
import { apnsAppConfig, apnsConfig } from './config';
import { classifyFailure } from './errors';
import { buildNotification } from './payload';
import { ProviderPool, pickCredential } from './providers';
import { pkg, version } from './version';

export interface ApnsMetrics {
  invalidTokens: Counter<'reason'>;
  tokenRefreshes: Counter;
  configurationErrors: Counter<'reason'>;
  clientsCreated: Counter;
  clients: Gauge;
}

export const apnsPlugin = defineChannelPlugin({
  name: 'apns',
  version,
  sdkVersion: pkg.sdkRange,
  channel: 'push',
  platforms: ['ios'],
  addressKind: 'device',
  config: apnsConfig,
  appConfig: apnsAppConfig,
  // HTTP/2 multiplexes all of these on one session per credential.
  processor: { concurrency: 200, attempts: 8, backoff: { baseMs: 1000, maxMs: 10 * 60_000 } },
  metrics: (m): ApnsMetrics => ({
    invalidTokens: m.counter(
      'invalid_tokens_total',
      'Device tokens APNs reported dead or wrong (Unregistered, BadDeviceToken, …)',
      ['reason'],
    ),
    tokenRefreshes: m.counter(
      'token_refreshes_total',
      'Provider JWTs re-signed after APNs answered ExpiredProviderToken',
    ),
    configurationErrors: m.counter(
      'configuration_errors_total',
      'Sends refused for a configuration problem (bad key, topic, certificate)',
      ['reason'],
    ),
    clientsCreated: m.counter(
      'clients_created_total',
      'Pooled HTTP/2 clients created (one per distinct credential)',
    ),
    clients: m.gauge('clients', 'Pooled HTTP/2 clients open now'),
  }),
  async createSender({ config, metrics }) {
    const pool = new ProviderPool(config, () => {
      metrics?.clientsCreated.inc();
      metrics?.clients.inc();
    });
    let closed = false;
    return {
      async send(job, { appConfig }) {
        const address = job.address;
        if (address.kind !== 'device' || !address.token) {
          throw new PermanentError(`delivery ${job.deliveryId} has no APNs device token`, {
            code: 'missing_token',
          });
        }
        const credential = pickCredential(config, appConfig);
        const note = buildNotification(job, credential.topic!);
        const result = await pool.get(credential).send(note, address.token);
        const sent = result.sent[0];
        if (sent) return { providerMessageId: (sent as { 'apns-id'?: string })['apns-id'] ?? note.id };
        const failure = result.failed[0];
        if (!failure)
          throw new PermanentError('APNs returned neither a success nor a failure', { code: 'no_result' });
        const { error, kind } = classifyFailure(failure);
        if (kind === 'invalid_token') metrics?.invalidTokens.inc({ reason: error.code ?? 'unknown' });
        if (kind === 'token_refreshed') metrics?.tokenRefreshes.inc();
        if (kind === 'configuration') metrics?.configurationErrors.inc({ reason: error.code ?? 'unknown' });
        throw error;
      },
      async close() {
        if (closed) return;
        closed = true;
        metrics?.clients.set(0);
        await pool.close();
      },
    };
  },
});

export default apnsPlugin;
