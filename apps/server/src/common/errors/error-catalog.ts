/**
 * Every error code the API answers with, in `{error: {code, message, details}}`. The HTTP status
 * is looked up here at the edge (error filter, batch items, idempotency replays), never chosen by
 * the domain code that throws. docs/errors.md is generated from this table (`pnpm --filter
 * @clarion/server errors:write`) and a test keeps the two equal.
 */
export interface ErrorEntry {
  /** The status a domain error with this code answers with. */
  readonly status: number;
  /** Further statuses an `ApiError` may pair with this code (see `meaning`). */
  readonly otherStatuses?: readonly number[];
  /** What a client should understand by it. */
  readonly meaning: string;
  /** Whether repeating the same request later can succeed without changing it. */
  readonly retryable: boolean;
}

export const ERROR_CATALOG = {
  invalid_request: {
    status: 400,
    meaning:
      'The request is malformed or fails validation (body, query, path, headers, HTTP framing); `details` lists each problem with its path.',
    retryable: false,
  },
  invalid_token: {
    status: 400,
    meaning: 'An unsubscribe or preferences link token is malformed.',
    retryable: false,
  },
  unauthorized: {
    status: 401,
    meaning: 'No valid appKey and appSecret (or client token) came with the request.',
    retryable: false,
  },
  bad_signature: {
    status: 401,
    meaning: "A provider callback's signature is missing or does not verify.",
    retryable: false,
  },
  invalid_callback: {
    status: 400,
    meaning: 'A provider callback whose payload the plugin could not read (signed, but malformed).',
    retryable: false,
  },
  callback_not_configured: {
    status: 401,
    meaning: 'A provider callback arrived, but no secret to verify it is configured.',
    retryable: false,
  },
  forged_token: {
    status: 401,
    meaning: 'A link token was not signed by this server.',
    retryable: false,
  },
  forbidden: {
    status: 403,
    meaning:
      'The key may not do this (a client key acting beyond its user, a CORS preflight from an unknown origin or for a non-client route).',
    retryable: false,
  },
  not_found: {
    status: 404,
    meaning: 'The app, user, template, notification, delivery or route does not exist for this key.',
    retryable: false,
  },
  method_not_allowed: {
    status: 405,
    meaning: 'The route exists but not for this HTTP method.',
    retryable: false,
  },
  timeout: {
    status: 408,
    meaning: 'The request line, headers or body did not arrive in time; the connection is closed.',
    retryable: true,
  },
  conflict: {
    status: 409,
    meaning: 'The request conflicts with the current state (a generic 409 with no more specific code).',
    retryable: false,
  },
  already_canceled: {
    status: 409,
    meaning: 'The notification is already canceled.',
    retryable: false,
  },
  already_sent: {
    status: 409,
    meaning:
      'The notification has nothing left to send (sent, failed, expired or suppressed), so it cannot be canceled.',
    retryable: false,
  },
  device_taken: {
    status: 409,
    meaning: 'The device token is registered to another user; only a server key can move it.',
    retryable: false,
  },
  event_id_conflict: {
    status: 409,
    meaning:
      'The eventId was already used with a different body; `details.notificationId` names the first notification (server keys).',
    retryable: false,
  },
  idempotency_key_in_progress: {
    status: 409,
    meaning: 'A request with this Idempotency-Key is still running; repeat it once that one has answered.',
    retryable: true,
  },
  idempotency_key_reused: {
    status: 409,
    meaning: 'The Idempotency-Key was used for a different request (method, path or body).',
    retryable: false,
  },
  limit_reached: {
    status: 409,
    meaning: 'The app already has the most status webhooks it may register.',
    retryable: false,
  },
  not_sent: {
    status: 409,
    meaning: 'opened or clicked was reported for a delivery that was never sent.',
    retryable: false,
  },
  expired_token: {
    status: 410,
    meaning: 'A preferences link has expired; the user needs a new one.',
    retryable: false,
  },
  payload_too_large: {
    status: 413,
    otherStatuses: [422],
    meaning:
      "413: the request body is over the server's limit. 422: a published template would render a push payload over its provider's byte limit.",
    retryable: false,
  },
  uri_too_long: {
    status: 414,
    meaning: 'A path segment is longer than 1,024 characters.',
    retryable: false,
  },
  unsupported_media_type: {
    status: 415,
    meaning: 'The body is not `application/json`.',
    retryable: false,
  },
  unprocessable: {
    status: 422,
    meaning:
      'The request is well formed but cannot be carried out (a generic 422 with no more specific code).',
    retryable: false,
  },
  template_error: {
    status: 422,
    meaning:
      'Content does not render: an undefined variable (`details.variable`), an unknown filter, or a templated URL that renders to no URL. In a fan-out the affected user gets a suppressed delivery instead.',
    retryable: false,
  },
  content_too_large: {
    status: 422,
    meaning:
      "Rendered content is over its channel's limit (SMS text, e-mail subject or body, webhook JSON, a provider payload); `details.field` names it. Suppressed per user in a fan-out.",
    retryable: false,
  },
  template_too_complex: {
    status: 422,
    meaning: 'A string holds more Liquid tags than one string may (parsing is quadratic in them).',
    retryable: false,
  },
  template_syntax_error: {
    status: 422,
    meaning:
      'A template being published has a Liquid syntax error; `details` lists each with line and column.',
    retryable: false,
  },
  unknown_template: {
    status: 422,
    meaning: 'The notification names a template (or version) that does not exist or is archived.',
    retryable: false,
  },
  critical_category: {
    status: 422,
    meaning: 'A preference tried to turn off a category the app marks critical.',
    retryable: false,
  },
  unverified_sender: {
    status: 422,
    meaning: "An e-mail `from` is not one of the app's verified senders.",
    retryable: false,
  },
  rate_limited: {
    status: 429,
    meaning:
      "A key's request quota or a user's client-key SMS budget is spent; `details.retryAfterSeconds` (and Retry-After) say when to repeat.",
    retryable: true,
  },
  headers_too_large: {
    status: 431,
    meaning: 'The request line and headers exceed 16 KB.',
    retryable: false,
  },
  internal: {
    status: 500,
    meaning: 'An unexpected error; it is logged, and nothing about it is in the answer.',
    retryable: true,
  },
  unavailable: {
    status: 503,
    meaning:
      'PostgreSQL or Redis cannot be reached right now; nothing was stored or changed. Retry-After says when to repeat.',
    retryable: true,
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

/** The status a code answers with when nothing more specific was chosen (see `otherStatuses`). */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOG[code].status;
}
