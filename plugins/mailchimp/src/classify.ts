import {
  InvalidAddressError,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  type SendError,
} from '@clarion/plugin-sdk';

/** One recipient's entry in a messages/send answer. */
export interface MandrillRecipientResult {
  email: string;
  status: string;
  reject_reason?: string | null;
  _id?: string;
}

/**
 * A recipient-level outcome (HTTP 200) that is not sent/queued/scheduled.
 * hard-bounce / invalid → invalid address; unsub and spam (complaint) → opted out; soft-bounce →
 * retry later; invalid-sender, unsigned, test-mode-limit → our configuration; custom/rule → permanent.
 */
export function classifyRecipientResult(result: MandrillRecipientResult): SendError {
  const reason = result.reject_reason ?? result.status;
  const message = `Mailchimp Transactional ${result.status}${result.reject_reason ? ` (${result.reject_reason})` : ''} for ${result.email}`;
  const options = { code: reason, status: 200 };
  if (result.status === 'invalid') return new InvalidAddressError(message, { ...options, reason: 'invalid' });
  switch (reason) {
    case 'hard-bounce':
      return new InvalidAddressError(message, { ...options, reason: 'invalid' });
    case 'unsub':
    case 'spam':
      return new InvalidAddressError(message, { ...options, reason: 'opted_out' });
    case 'soft-bounce':
      // Mandrill keeps a soft-bounced address on its deny list for a while; try again later.
      return new RetryableError(message, options);
    case 'invalid-sender':
    case 'unsigned':
    case 'test-mode-limit':
      return new PermanentError(message, { ...options, configuration: true });
    default:
      return new PermanentError(message, options);
  }
}

/** What the client resolves with on failure: an AxiosError (it catches and returns errors instead of throwing). */
interface AxiosErrorLike {
  isAxiosError?: boolean;
  code?: string;
  message?: string;
  response?: { status: number; headers?: Record<string, unknown>; data?: unknown };
}

export function isAxiosErrorLike(value: unknown): value is AxiosErrorLike {
  return (
    value instanceof Error ||
    (typeof value === 'object' && value !== null && (value as AxiosErrorLike).isAxiosError === true)
  );
}

/** Request-level errors: Mandrill names them (`Invalid_Key`, `ValidationError`, `GeneralError`…), with HTTP 500 or 4xx. */
export function classifyRequestError(error: AxiosErrorLike): SendError {
  const response = error.response;
  if (!response) {
    const timeout = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT';
    return new RetryableError(`Mailchimp Transactional unreachable: ${error.message ?? 'no response'}`, {
      code: timeout ? 'timeout' : (error.code ?? 'connection'),
      cause: error,
    });
  }
  const body = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as {
    name?: string;
    message?: string;
  };
  const status = response.status;
  const name = body.name ?? String(status);
  const message = `Mailchimp Transactional ${status} ${name}: ${body.message ?? ''}`.trim();
  const options = { status, code: name, cause: error };
  if (status === 429) {
    const retryAfter = response.headers?.['retry-after'];
    const retryAfterMs = parseRetryAfter(retryAfter === undefined ? undefined : String(retryAfter)) ?? 1000;
    return new RetryableError(message, { ...options, throttled: true, retryAfterMs });
  }
  switch (name) {
    case 'Invalid_Key':
    case 'PaymentRequired':
    case 'Unknown_Subaccount':
      return new PermanentError(message, { ...options, configuration: true });
    case 'ValidationError':
      return new PermanentError(message, options);
    case 'GeneralError':
    case 'ServiceUnavailable':
      return new RetryableError(message, options);
  }
  if (status === 401 || status === 403)
    return new PermanentError(message, { ...options, configuration: true });
  if (status >= 500 || status === 408) return new RetryableError(message, options);
  return new PermanentError(message, options);
}
