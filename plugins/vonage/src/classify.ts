import { InvalidAddressError, PermanentError, RetryableError, type SendError } from '@clarion/plugin-sdk';

/** One entry of the SMS API's `messages` array, as the SDK hands it back (camel-cased keys). */
export interface VonageMessageStatus {
  status: string;
  errorText?: string;
  messageId?: string;
}

/**
 * Maps a Vonage SMS API status (it arrives inside an HTTP 200) to the SDK's error classes.
 * 1 throttled → pause the queue; 5 internal → retry; 4/8/9/11 and 15 (our sender) → configuration;
 * 3 (a bad `to`), 6 (unroutable), 33 (deactivated) → invalid address; 7 (barred, which is
 * where STOP replies land) → opted out; anything else (2, 12, 29…) → permanent.
 */
export function classifyVonageStatus(failed: VonageMessageStatus): SendError {
  const code = failed.status;
  const message = `Vonage status ${code}: ${failed.errorText ?? 'unknown'}`;
  const options = { code, status: 200 };
  switch (code) {
    case '1':
      return new RetryableError(message, { ...options, throttled: true, retryAfterMs: 1000 });
    case '5':
      return new RetryableError(message, options);
    case '4':
    case '8':
    case '9':
    case '11':
    case '15':
      return new PermanentError(message, { ...options, configuration: true });
    case '3':
      return /\bto\b/i.test(failed.errorText ?? '')
        ? new InvalidAddressError(message, { ...options, reason: 'invalid' })
        : new PermanentError(message, options);
    case '6':
      return new InvalidAddressError(message, { ...options, reason: 'invalid' });
    case '7':
      return new InvalidAddressError(message, { ...options, reason: 'opted_out' });
    case '33':
      return new InvalidAddressError(message, { ...options, reason: 'unregistered' });
    default:
      return new PermanentError(message, options);
  }
}

/** HTTP-level failures (the SDK's VetchError carries the fetch Response) and network errors. */
export function classifyVonageTransportError(error: unknown): SendError {
  const e = error as {
    name?: string;
    message?: string;
    response?: { status?: unknown; headers?: { get?(name: string): string | null } };
  };
  const status = typeof e?.response?.status === 'number' ? e.response.status : undefined;
  if (status !== undefined) {
    const message = `Vonage answered HTTP ${status}`;
    if (status === 429)
      return new RetryableError(message, {
        status,
        code: '429',
        throttled: true,
        retryAfterMs: 1000,
        cause: error,
      });
    if (status === 401 || status === 403)
      return new PermanentError(message, { status, code: String(status), configuration: true, cause: error });
    if (status >= 500 || status === 408)
      return new RetryableError(message, { status, code: String(status), cause: error });
    return new PermanentError(message, { status, code: String(status), cause: error });
  }
  const timeout = e?.name === 'AbortError' || e?.name === 'TimeoutError';
  return new RetryableError(
    timeout ? 'Vonage did not answer in time' : `Vonage unreachable: ${e?.message ?? String(error)}`,
    {
      code: timeout ? 'timeout' : 'connection',
      cause: error,
    },
  );
}
