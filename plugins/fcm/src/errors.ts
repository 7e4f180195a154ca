import {
  InvalidAddressError,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  type SendError,
} from '@clarion/plugin-sdk';

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { '@type'?: string; errorCode?: string; fieldViolations?: { field?: string }[] }[];
  };
}

export type FcmFailureKind = 'invalid_token' | 'configuration' | 'unauthenticated' | 'quota' | 'other';

/**
 * Classifies an FCM HTTP v1 error answer. Like firebase-admin, the FCM `errorCode` in
 * `details[]` wins over the RPC `status`; INVALID_ARGUMENT is a dead address only when it is
 * about `message.token`, otherwise our payload is wrong.
 */
export function classifyFcmError(
  httpStatus: number,
  bodyText: string,
  retryAfter: string | undefined,
): { error: SendError; kind: FcmFailureKind } {
  let body: GoogleErrorBody = {};
  try {
    body = JSON.parse(bodyText) as GoogleErrorBody;
  } catch {
    // A proxy's HTML error page: fall back on the HTTP status.
  }
  const details = body.error?.details ?? [];
  const fcmCode = details.find((d) => typeof d.errorCode === 'string')?.errorCode;
  const code = fcmCode ?? body.error?.status ?? String(httpStatus);
  const message = `FCM ${httpStatus} ${code}: ${body.error?.message ?? bodyText.slice(0, 200)}`;
  const opts = { status: httpStatus, code };
  const retryAfterMs = parseRetryAfter(retryAfter);
  const retry = { ...opts, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  switch (code) {
    case 'UNREGISTERED':
    case 'NOT_FOUND':
      return {
        kind: 'invalid_token',
        error: new InvalidAddressError(message, { ...opts, reason: 'unregistered' }),
      };
    case 'INVALID_ARGUMENT': {
      const aboutToken =
        details.some((d) => d.fieldViolations?.some((v) => v.field === 'message.token')) ||
        /registration token/i.test(body.error?.message ?? '');
      return aboutToken
        ? { kind: 'invalid_token', error: new InvalidAddressError(message, { ...opts, reason: 'invalid' }) }
        : { kind: 'other', error: new PermanentError(message, opts) };
    }
    case 'SENDER_ID_MISMATCH':
    case 'THIRD_PARTY_AUTH_ERROR':
    case 'APNS_AUTH_ERROR':
    case 'PERMISSION_DENIED':
      return { kind: 'configuration', error: new PermanentError(message, { ...opts, configuration: true }) };
    case 'UNAUTHENTICATED':
      return { kind: 'unauthenticated', error: new RetryableError(message, opts) };
    case 'QUOTA_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
      // The project's quota, not this message: throttling pauses the queue and spends no attempt.
      return {
        kind: 'quota',
        error: new RetryableError(message, { ...retry, throttled: true }),
      };
    case 'UNAVAILABLE':
    case 'INTERNAL':
    case 'UNSPECIFIED_ERROR':
      return { kind: 'other', error: new RetryableError(message, retry) };
  }
  if (httpStatus === 429)
    return {
      kind: 'quota',
      error: new RetryableError(message, { ...retry, throttled: true }),
    };
  if (httpStatus >= 500 || httpStatus === 408)
    return { kind: 'other', error: new RetryableError(message, retry) };
  return { kind: 'other', error: new PermanentError(message, opts) };
}
