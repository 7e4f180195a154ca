import {
  type DeliveryJob,
  defineChannelPlugin,
  exchange,
  guardedUndiciAgent,
  InvalidAddressError,
  outboundRefusal,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  refusedUrl,
  STRICT_OUTBOUND,
  secret,
} from '@clarion/plugin-sdk';
import { errors } from 'undici';
import { z } from 'zod';
import { SIGNATURE_HEADER, signWebhook } from './signature';
import { pkg } from './version';

const config = z.object({
  /** Signing secret used when an app has none of its own. */
  secret: secret(),
  /** URL used when neither the user's contact nor the app's settings give one. */
  defaultUrl: z.url().optional(),
  timeoutMs: z.coerce.number().int().positive().default(5000),
  /** Open connections kept per origin. */
  connections: z.coerce.number().int().positive().default(64),
});

const appConfig = z.object({ url: z.url().optional(), secret: z.string().min(16).optional() });

/** The user's own URL wins, then the app's. */
function chosenUrl(
  job: DeliveryJob,
  appConfig: { url?: string | undefined } | undefined,
): string | undefined {
  return (job.address.kind === 'url' ? job.address.url : undefined) ?? appConfig?.url;
}

/** A destination a tenant chose and the connection guard refused: an address problem, never retried. */
function refused(reason: string): InvalidAddressError {
  return new InvalidAddressError(`webhook destination refused: ${reason}`, {
    code: 'address_refused',
    reason: 'invalid',
  });
}

/** The JSON body a receiver gets. Stable: receivers parse it. */
export function webhookBody(job: DeliveryJob) {
  return {
    id: job.deliveryId,
    notificationId: job.notificationId,
    appId: job.appId,
    userId: job.userId ?? null,
    category: job.category ?? null,
    priority: job.priority,
    content: job.content.json ?? job.content,
    sentAt: new Date().toISOString(),
  };
}

export const webhookPlugin = defineChannelPlugin({
  name: 'webhook',
  version: pkg.version,
  sdkVersion: pkg.sdkRange,
  channel: 'webhook',
  addressKind: 'url',
  config,
  appConfig,
  processor: { concurrency: 100, attempts: 8, backoff: { baseMs: 1000, maxMs: 5 * 60_000 } },
  // Each receiver is its own destination: one tenant's dead receiver must not pause the others'.
  circuitKey: (job, appConfig) => {
    const target = chosenUrl(job, appConfig);
    if (target === undefined || !URL.canParse(target)) return undefined;
    return new URL(target).origin;
  },
  async createSender({ config, outbound = STRICT_OUTBOUND }) {
    // One pooled keep-alive agent for all receivers; every connection it opens is checked (outbound/).
    const agent = guardedUndiciAgent({ connections: config.connections, keepAliveTimeout: 30_000 }, outbound);
    let closed = false;
    return {
      async send(job, { appConfig }) {
        const target = chosenUrl(job, appConfig) ?? config.defaultUrl;
        let url: URL;
        try {
          url = new URL(target ?? '');
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
        } catch {
          throw new PermanentError(`no usable webhook URL for delivery ${job.deliveryId}`, {
            code: 'invalid_url',
          });
        }
        const refusal = refusedUrl(url.href, outbound);
        if (refusal) throw refused(refusal);
        const body = JSON.stringify(webhookBody(job));
        try {
          // The receiver's body is not read: dropped as it arrives, the connection closed past 128 KiB.
          const res = await exchange(
            agent,
            {
              origin: url.origin,
              path: `${url.pathname}${url.search}`,
              method: 'POST',
              body,
              headers: {
                'content-type': 'application/json',
                'user-agent': 'clarion-webhook/0.1',
                'clarion-delivery-id': job.deliveryId,
                [SIGNATURE_HEADER]: signWebhook(appConfig?.secret ?? config.secret, body),
              },
              headersTimeout: config.timeoutMs,
              bodyTimeout: config.timeoutMs,
            },
            { keepBody: false },
          );
          if (res.statusCode >= 200 && res.statusCode < 300) return { details: { status: res.statusCode } };
          const retryAfter = res.headers['retry-after'];
          const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
          if (res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429) {
            throw new RetryableError(`receiver answered ${res.statusCode}`, {
              status: res.statusCode,
              code: String(res.statusCode),
              ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
            });
          }
          throw new PermanentError(`receiver answered ${res.statusCode}`, {
            status: res.statusCode,
            code: String(res.statusCode),
          });
        } catch (error) {
          if (error instanceof RetryableError || error instanceof PermanentError) throw error;
          const refusal = outboundRefusal(error);
          if (refusal) throw refused(refusal.reason);
          const timeout =
            error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
          throw new RetryableError(
            timeout
              ? `receiver timed out after ${config.timeoutMs} ms`
              : `receiver unreachable: ${(error as Error).message}`,
            {
              code: timeout ? 'timeout' : 'connection',
              cause: error,
            },
          );
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        await agent.close();
      },
    };
  },
});

export default webhookPlugin;
