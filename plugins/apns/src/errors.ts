import { InvalidAddressError, PermanentError, RetryableError, type SendError } from '@clarion/plugin-sdk';
import type { ResponseFailure } from '@parse/node-apn';

/** Apple reasons that mean the token is dead: disable the device. */
const DEAD_TOKEN = new Set(['Unregistered', 'ExpiredToken']);
/** Malformed token or one for another app / environment: Apple says do not retry. */
const BAD_TOKEN = new Set(['BadDeviceToken', 'DeviceTokenNotForTopic']);
/** Our setup is wrong (credential, topic, environment): every send will fail until an operator fixes it. */
const CONFIGURATION = new Set([
  'BadTopic',
  'MissingTopic',
  'TopicDisallowed',
  'BadCertificate',
  'BadCertificateEnvironment',
  'InvalidProviderToken',
  'MissingProviderToken',
  'UnrelatedKeyIdInToken',
  'BadEnvironmentKeyInToken',
  'Forbidden',
  'BadPath',
  'MethodNotAllowed',
]);
/** Transient on Apple's side or ours. */
const RETRYABLE = new Set([
  'TooManyRequests',
  'InternalServerError',
  'ServiceUnavailable',
  'Shutdown',
  'IdleTimeout',
]);

export type ApnsFailureKind = 'invalid_token' | 'token_refreshed' | 'configuration' | 'other';

/**
 * Turns one `@parse/node-apn` failure into Clarion's error classes. The library reports either
 * Apple's answer (`status` + `response.reason`) or a transport error (`error`: timeout, aborted,
 * connection lost, unparsable body); for ExpiredProviderToken it has already regenerated the
 * JWT and reports `status` 403 with `error.message` = the reason.
 */
export function classifyFailure(failure: ResponseFailure): { error: SendError; kind: ApnsFailureKind } {
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  // node-apn swallows two of Apple's bodies into `error`: ExpiredProviderToken (after re-signing)
  // and 500 InternalServerError (after closing the session).
  const reason =
    failure.response?.reason ??
    (failure.error?.message === 'ExpiredProviderToken'
      ? 'ExpiredProviderToken'
      : status === 500 && failure.error !== undefined
        ? 'InternalServerError'
        : undefined);
  const opts = {
    ...(status !== undefined ? { status } : {}),
    ...(reason !== undefined ? { code: reason } : {}),
  };
  if (reason !== undefined) {
    if (DEAD_TOKEN.has(reason)) {
      const ts = Number(failure.response?.timestamp);
      return {
        kind: 'invalid_token',
        error: new InvalidAddressError(`APNs: ${reason}`, {
          ...opts,
          reason: 'unregistered',
          ...(Number.isFinite(ts) && ts > 0 ? { invalidSince: new Date(ts) } : {}),
        }),
      };
    }
    if (BAD_TOKEN.has(reason)) {
      return {
        kind: 'invalid_token',
        error: new InvalidAddressError(`APNs: ${reason}`, { ...opts, reason: 'invalid' }),
      };
    }
    if (reason === 'ExpiredProviderToken') {
      // node-apn signed a fresh provider token already; the next attempt carries it.
      return {
        kind: 'token_refreshed',
        error: new RetryableError('APNs: provider token expired; refreshed', opts),
      };
    }
    if (reason === 'TooManyProviderTokenUpdates') {
      // Apple wants at most one refresh per 20 minutes: wait a while rather than hammer.
      return {
        kind: 'other',
        error: new RetryableError(`APNs: ${reason}`, { ...opts, retryAfterMs: 60_000 }),
      };
    }
    if (CONFIGURATION.has(reason)) {
      return {
        kind: 'configuration',
        error: new PermanentError(`APNs: ${reason}`, { ...opts, configuration: true }),
      };
    }
    if (RETRYABLE.has(reason) || (status !== undefined && status >= 500)) {
      return { kind: 'other', error: new RetryableError(`APNs: ${reason}`, opts) };
    }
    // BadCollapseId, BadExpirationDate, BadPriority, PayloadTooLarge, PayloadEmpty…: this message is wrong.
    return { kind: 'other', error: new PermanentError(`APNs: ${reason}`, opts) };
  }
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) {
    return {
      kind: 'other',
      error: new RetryableError(`APNs answered ${status}`, { status, code: String(status) }),
    };
  }
  const message = failure.error?.message ?? 'unknown APNs failure';
  return {
    kind: 'other',
    error: new RetryableError(`APNs: ${message}`, {
      code: /timeout/i.test(message) ? 'timeout' : 'connection',
      cause: failure.error,
    }),
  };
}
