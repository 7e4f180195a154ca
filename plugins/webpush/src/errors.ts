import {
  InvalidAddressError,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  type SendError,
} from '@clarion/plugin-sdk';
import { WebPushError } from 'web-push';

export type WebPushFailureKind = 'invalid_subscription' | 'configuration' | 'other';

/**
 * web-push rejects with WebPushError for any non-2xx answer (it never retries), and with a plain
 * Error for transport failures or for input it refuses before sending.
 */
export function classifyWebPushError(thrown: unknown): { error: SendError; kind: WebPushFailureKind } {
  if (thrown instanceof WebPushError) {
    const status = thrown.statusCode;
    const message = `push service answered ${status}${thrown.body ? `: ${String(thrown.body).slice(0, 200)}` : ''}`;
    const opts = { status, code: String(status) };
    if (status === 404 || status === 410) {
      return {
        kind: 'invalid_subscription',
        error: new InvalidAddressError(message, { ...opts, reason: 'unregistered' }),
      };
    }
    if (status === 429 || status >= 500) {
      const header = thrown.headers?.['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header);
      return {
        kind: 'other',
        error: new RetryableError(message, {
          ...opts,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        }),
      };
    }
    if (status === 401 || status === 403) {
      // The VAPID JWT or key is refused for this subscription (subscribed with another app's key,
      // say). The endpoint is the browser's choice, so this says nothing about the plugin's health.
      return { kind: 'configuration', error: new PermanentError(message, opts) };
    }
    return { kind: 'other', error: new PermanentError(message, opts) }; // 400, 413 and other 4xx
  }
  const error = thrown as Error & { code?: string };
  const text = error?.message ?? String(thrown);
  if (/vapid|subject|private key|public key/i.test(text) && !error.code) {
    return {
      kind: 'configuration',
      error: new PermanentError(`Web Push: ${text}`, {
        configuration: true,
        code: 'vapid_config',
        cause: thrown,
      }),
    };
  }
  if (/subscription|p256dh|auth secret|endpoint/i.test(text) && !error.code) {
    return {
      kind: 'invalid_subscription',
      error: new InvalidAddressError(`Web Push: ${text}`, {
        reason: 'invalid',
        code: 'invalid_subscription',
        cause: thrown,
      }),
    };
  }
  return {
    kind: 'other',
    error: new RetryableError(`push service unreachable: ${text}`, {
      code: /timeout/i.test(text) ? 'timeout' : 'connection',
      cause: thrown,
    }),
  };
}
