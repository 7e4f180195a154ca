import {
  InvalidAddressError,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  type SendError,
} from '@clarion/plugin-sdk';
import { CONFIGURATION, INVALID_NUMBER, OPTED_OUT } from './error-codes';

/** What twilio-node throws: RestException (legacy JSON) and TwilioServiceException (RFC 9457) both carry these. */
interface TwilioApiError {
  status: number;
  code?: number;
  message: string;
  moreInfo?: string;
}

function asApiError(error: unknown): TwilioApiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.status !== 'number') return undefined;
  return {
    status: e.status,
    message: String(e.message ?? ''),
    ...(typeof e.code === 'number' ? { code: e.code } : {}),
  };
}

/**
 * Maps a twilio-node failure to the SDK's error classes.
 * 21610 (recipient replied STOP) → opted out; 21211/21614… → invalid address; 20003 → unhealthy;
 * 429/20429 → throttled (pause the queue); 5xx and network errors → retry; other 4xx → permanent.
 */
export function classifyTwilioError(error: unknown, retryAfterHeader?: string): SendError {
  const api = asApiError(error);
  if (!api) {
    const code = (error as { code?: unknown })?.code;
    const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    return new RetryableError(`Twilio unreachable: ${(error as Error)?.message ?? String(error)}`, {
      code: timeout ? 'timeout' : typeof code === 'string' ? code : 'connection',
      cause: error,
    });
  }
  const code = api.code !== undefined ? String(api.code) : String(api.status);
  const options = { code, status: api.status, cause: error };
  const message = `Twilio ${api.code ?? api.status}: ${api.message}`;
  if (api.code === OPTED_OUT) return new InvalidAddressError(message, { ...options, reason: 'opted_out' });
  if (api.code !== undefined && INVALID_NUMBER.has(api.code))
    return new InvalidAddressError(message, { ...options, reason: 'invalid' });
  if (api.status === 429 || api.code === 20429) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader);
    return new RetryableError(message, {
      ...options,
      throttled: true,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (api.status === 401 || api.status === 403 || (api.code !== undefined && CONFIGURATION.has(api.code))) {
    return new PermanentError(message, { ...options, configuration: true });
  }
  if (api.status >= 500 || api.status === 408) return new RetryableError(message, options);
  return new PermanentError(message, options);
}
