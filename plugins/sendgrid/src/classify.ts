import { InvalidAddressError, PermanentError, RetryableError, type SendError } from '@clarion/plugin-sdk';

interface SendgridErrorItem {
  message?: string;
  field?: string | null;
}
/** A ResponseError (transport.ts, the shape of @sendgrid/client's): `code` is the HTTP status, `response` the headers and parsed body. */
interface ResponseErrorLike {
  code: number;
  response: { headers?: Record<string, unknown>; body?: unknown };
}
const isResponseError = (e: unknown): e is ResponseErrorLike =>
  typeof (e as ResponseErrorLike)?.code === 'number' &&
  typeof (e as ResponseErrorLike)?.response === 'object';

const header = (headers: Record<string, unknown> | undefined, name: string): string | undefined => {
  const v = headers?.[name] ?? headers?.[name.toLowerCase()];
  return v === undefined || v === null ? undefined : String(v);
};

/**
 * 429 → pause the queue until X-RateLimit-Reset; 5xx and network errors → retry; 401/403 →
 * configuration; 400 whose only complaints are the recipient's address → invalid address;
 * any other 4xx → permanent.
 */
export function classifySendgridError(error: unknown, now = Date.now()): SendError {
  if (!isResponseError(error)) {
    const code = (error as { code?: unknown })?.code;
    const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    return new RetryableError(`SendGrid unreachable: ${(error as Error)?.message ?? String(error)}`, {
      code: timeout ? 'timeout' : typeof code === 'string' ? code : 'connection',
      cause: error,
    });
  }
  const status = error.code;
  const items = ((error.response.body as { errors?: SendgridErrorItem[] } | undefined)?.errors ?? []).filter(
    Boolean,
  );
  const detail = items.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
  const message = `SendGrid ${status}${detail ? `: ${detail}` : ''}`;
  const options = { status, code: String(status), cause: error };
  if (status === 429) {
    const reset = Number(header(error.response.headers, 'x-ratelimit-reset'));
    const retryAfterMs = Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : 1000;
    return new RetryableError(message, { ...options, throttled: true, retryAfterMs });
  }
  if (status >= 500 || status === 408) return new RetryableError(message, options);
  if (status === 401 || status === 403)
    return new PermanentError(message, { ...options, configuration: true });
  if (
    status === 400 &&
    items.length > 0 &&
    items.every((i) => /^personalizations\.\d+\.(to|cc|bcc)\.\d+\.email$/.test(i.field ?? ''))
  ) {
    return new InvalidAddressError(message, { ...options, reason: 'invalid' });
  }
  return new PermanentError(message, options);
}
