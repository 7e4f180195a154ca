/**
 * Classified send errors. A plugin's sender throws one of these; the runtime turns the
 * class into the delivery's fate: retry with backoff, fail now, or fail and disable the address.
 * Anything else a sender throws is treated as retryable (an unknown failure is more often
 * a network blip than a permanent condition, and the retry budget bounds the cost).
 */

export interface SendErrorOptions {
  /** Provider's own error code or reason (e.g. `Unregistered`, `21211`, `UNAVAILABLE`). */
  code?: string;
  /** HTTP status the provider answered with, when there was one. */
  status?: number;
  cause?: unknown;
}

export type SendErrorKind = 'retryable' | 'permanent' | 'invalid_address';

/**
 * A property every SendError carries, holding its kind. A plugin may resolve its own copy of the
 * SDK (npm installs one beside it), and `instanceof` fails across copies; a registered symbol
 * (`Symbol.for`) is the same in every copy, so the runtime classifies errors by it.
 */
export const SEND_ERROR_BRAND: unique symbol = Symbol.for('clarion.sendError');

const KINDS: ReadonlySet<unknown> = new Set<SendErrorKind>(['retryable', 'permanent', 'invalid_address']);

export abstract class SendError extends Error {
  abstract readonly kind: SendErrorKind;
  readonly code: string | undefined;
  readonly status: number | undefined;

  constructor(message: string, options: SendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status;
  }

  get [SEND_ERROR_BRAND](): SendErrorKind {
    return this.kind;
  }
}

export interface RetryableErrorOptions extends SendErrorOptions {
  /** Provider asked us to wait this long (Retry-After, X-RateLimit-Reset). Overrides backoff. */
  retryAfterMs?: number;
  /**
   * The provider throttles the whole account (HTTP 429 on any request): pause the plugin's
   * queue for every worker, not just this job. The job does not lose an attempt.
   */
  throttled?: boolean;
}

/** Transient: provider down, 5xx, timeout, connection reset, 429. Retried with backoff. */
export class RetryableError extends SendError {
  readonly kind = 'retryable' as const;
  readonly retryAfterMs: number | undefined;
  readonly throttled: boolean;
  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
    this.throttled = options.throttled ?? false;
  }
}

/**
 * The provider limits this one address (a Slack webhook, an APNs device token), not the account:
 * only this delivery waits `retryAfterMs` (its job is delayed, no attempt spent) while the queue
 * goes on with the others. Counted as `throttled` in `clarion_plugin_send_attempts_total`, and
 * capped: after the host's `maxThrottledRetries` runs the delivery fails with reason `throttled`
 * (or moves to its next provider).
 *
 * ```ts
 * if (res.statusCode === 429)
 *   throw new ThrottledAddressError('rate limited for this webhook', parseRetryAfter(res.headers['retry-after']) ?? 1000, { status: 429 });
 * ```
 */
export class ThrottledAddressError extends RetryableError {
  /** Read across SDK copies (see SEND_ERROR_BRAND): a plain property, not `instanceof`. */
  readonly throttledAddress = true as const;
  declare readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: SendErrorOptions = {}) {
    super(message, { ...options, retryAfterMs: Math.max(0, retryAfterMs) });
  }
}

export interface PermanentErrorOptions extends SendErrorOptions {
  /**
   * The failure is ours, not the message's: bad credentials, wrong topic, revoked key.
   * The plugin reports itself unhealthy until a send succeeds again.
   */
  configuration?: boolean;
}

/** Will fail the same way every time: invalid payload, payload too large, bad credentials. */
export class PermanentError extends SendError {
  readonly kind = 'permanent' as const;
  readonly configuration: boolean;
  constructor(message: string, options: PermanentErrorOptions = {}) {
    super(message, options);
    this.configuration = options.configuration ?? false;
  }
}

export type InvalidAddressReason = 'unregistered' | 'invalid' | 'opted_out';

export interface InvalidAddressErrorOptions extends SendErrorOptions {
  reason?: InvalidAddressReason;
  /** When the provider says the address became invalid (APNs 410 `timestamp`). */
  invalidSince?: Date;
}

/** The address is dead: uninstalled app, malformed token, landline, STOP reply. Disable it. */
export class InvalidAddressError extends SendError {
  readonly kind = 'invalid_address' as const;
  readonly reason: InvalidAddressReason;
  readonly invalidSince: Date | undefined;
  constructor(message: string, options: InvalidAddressErrorOptions = {}) {
    super(message, options);
    this.reason = options.reason ?? 'invalid';
    this.invalidSince = options.invalidSince;
  }
}

/** The kind of a SendError from any copy of the SDK; undefined for anything else. */
export function sendErrorKind(error: unknown): SendErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const kind = (error as { [SEND_ERROR_BRAND]?: unknown })[SEND_ERROR_BRAND];
  return KINDS.has(kind) ? (kind as SendErrorKind) : undefined;
}

/** A SendError from this or any other copy of the SDK (see SEND_ERROR_BRAND). */
export function isSendError(error: unknown): error is SendError {
  return sendErrorKind(error) !== undefined;
}

export function isRetryableError(error: unknown): error is RetryableError {
  return sendErrorKind(error) === 'retryable';
}

/** A ThrottledAddressError from this or any other copy of the SDK. */
export function isThrottledAddressError(error: unknown): error is ThrottledAddressError {
  return isRetryableError(error) && (error as { throttledAddress?: unknown }).throttledAddress === true;
}

export function isPermanentError(error: unknown): error is PermanentError {
  return sendErrorKind(error) === 'permanent';
}

export function isInvalidAddressError(error: unknown): error is InvalidAddressError {
  return sendErrorKind(error) === 'invalid_address';
}

/** Reads an HTTP Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
