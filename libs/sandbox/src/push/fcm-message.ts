import type { FieldViolation } from './fcm-errors';

/**
 * Validation of an FCM HTTP v1 `messages:send` body, as strict as Google's: unknown fields,
 * non-string data values, bad enums and durations, several or no targets, and the 4 KB payload
 * limit are all INVALID_ARGUMENT.
 */
export interface FcmValidation {
  violations: FieldViolation[];
  message: Record<string, unknown>;
  /** When the only problem is the token itself (so the answer says `message.token`). */
  badToken: boolean;
}

const MESSAGE_FIELDS = new Set([
  'name',
  'data',
  'notification',
  'android',
  'webpush',
  'apns',
  'fcm_options',
  'token',
  'topic',
  'condition',
]);
const NOTIFICATION_FIELDS = new Set(['title', 'body', 'image']);
const ANDROID_FIELDS = new Set([
  'collapse_key',
  'priority',
  'ttl',
  'restricted_package_name',
  'data',
  'notification',
  'fcm_options',
  'direct_boot_ok',
]);
const ANDROID_NOTIFICATION_FIELDS = new Set([
  'title',
  'body',
  'icon',
  'color',
  'sound',
  'tag',
  'click_action',
  'body_loc_key',
  'body_loc_args',
  'title_loc_key',
  'title_loc_args',
  'channel_id',
  'ticker',
  'sticky',
  'event_time',
  'local_only',
  'notification_priority',
  'default_sound',
  'default_vibrate_timings',
  'default_light_settings',
  'vibrate_timings',
  'visibility',
  'notification_count',
  'light_settings',
  'image',
  'bypass_proxy_notification',
]);
/** Keys FCM reserves in `data`. */
const RESERVED_DATA_KEYS = /^(from|notification|message_type)$|^(google|gcm)(\.|$)/;
const TOKEN_PATTERN = /^[A-Za-z0-9_:-]{20,4096}$/;
const TTL_PATTERN = /^\d+(\.\d{1,9})?s$/;
const MAX_TTL_S = 2_419_200;
export const FCM_PAYLOAD_LIMIT = 4096;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownFields(
  obj: Record<string, unknown>,
  allowed: Set<string>,
  path: string,
  out: FieldViolation[],
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key))
      out.push({
        field: `${path}`,
        description: `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`,
      });
  }
}

function stringMap(value: unknown, path: string, out: FieldViolation[]): void {
  if (!isObject(value)) {
    out.push({ field: path, description: `Invalid value at '${path}': expected a map of strings` });
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      out.push({
        field: `${path}[${key}]`,
        description: `Invalid value at '${path}[${key}].value' (TYPE_STRING), ${JSON.stringify(v)}`,
      });
    if (RESERVED_DATA_KEYS.test(key))
      out.push({ field: `${path}[${key}]`, description: `Invalid data payload key: ${key}` });
  }
}

function strings(obj: Record<string, unknown>, keys: string[], path: string, out: FieldViolation[]): void {
  for (const key of keys) {
    if (obj[key] !== undefined && typeof obj[key] !== 'string')
      out.push({ field: `${path}.${key}`, description: `Invalid value at '${path}.${key}' (TYPE_STRING)` });
  }
}

export function validateFcmBody(body: unknown): FcmValidation {
  const violations: FieldViolation[] = [];
  if (!isObject(body) || !isObject(body.message)) {
    return {
      violations: [
        { field: 'message', description: 'Request contains an invalid argument: message is required.' },
      ],
      message: {},
      badToken: false,
    };
  }
  unknownFields(body, new Set(['message', 'validate_only']), '', violations);
  const message = body.message;
  unknownFields(message, MESSAGE_FIELDS, 'message', violations);
  const targets = ['token', 'topic', 'condition'].filter((k) => message[k] !== undefined);
  if (targets.length !== 1)
    violations.push({
      field: 'message',
      description: 'Exactly one of token, topic or condition must be set.',
    });
  if (message.data !== undefined) stringMap(message.data, 'message.data', violations);
  if (message.notification !== undefined) {
    if (!isObject(message.notification))
      violations.push({ field: 'message.notification', description: 'expected an object' });
    else {
      unknownFields(message.notification, NOTIFICATION_FIELDS, 'message.notification', violations);
      strings(message.notification, ['title', 'body', 'image'], 'message.notification', violations);
    }
  }
  const android = message.android;
  if (android !== undefined) {
    if (!isObject(android)) violations.push({ field: 'message.android', description: 'expected an object' });
    else {
      unknownFields(android, ANDROID_FIELDS, 'message.android', violations);
      strings(android, ['collapse_key', 'restricted_package_name'], 'message.android', violations);
      // firebase-admin sends `normal`/`high` and FCM accepts them: enum names match case-insensitively.
      if (
        android.priority !== undefined &&
        !['NORMAL', 'HIGH'].includes(String(android.priority).toUpperCase())
      ) {
        violations.push({
          field: 'message.android.priority',
          description: `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "${String(android.priority)}"`,
        });
      }
      if (android.ttl !== undefined) {
        if (
          typeof android.ttl !== 'string' ||
          !TTL_PATTERN.test(android.ttl) ||
          Number.parseFloat(android.ttl) > MAX_TTL_S
        ) {
          violations.push({
            field: 'message.android.ttl',
            description: `Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), "${String(android.ttl)}"`,
          });
        }
      }
      if (android.data !== undefined) stringMap(android.data, 'message.android.data', violations);
      if (android.notification !== undefined) {
        if (!isObject(android.notification))
          violations.push({ field: 'message.android.notification', description: 'expected an object' });
        else
          unknownFields(
            android.notification,
            ANDROID_NOTIFICATION_FIELDS,
            'message.android.notification',
            violations,
          );
      }
    }
  }
  const limit = message.topic !== undefined || message.condition !== undefined ? 2048 : FCM_PAYLOAD_LIMIT;
  const { token: _t, topic: _p, condition: _c, ...payload } = message;
  if (Buffer.byteLength(JSON.stringify(payload)) > limit) {
    violations.push({
      field: 'message',
      description: `Message is too big: the payload exceeds ${limit} bytes.`,
    });
  }
  let badToken = false;
  if (
    violations.length === 0 &&
    message.token !== undefined &&
    (typeof message.token !== 'string' || !TOKEN_PATTERN.test(message.token))
  ) {
    badToken = true;
    violations.push({
      field: 'message.token',
      description: 'The registration token is not a valid FCM registration token',
    });
  }
  return { violations, message, badToken };
}
