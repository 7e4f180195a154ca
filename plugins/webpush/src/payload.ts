import { createHash } from 'node:crypto';
import { type DeliveryJob, PermanentError } from '@clarion/plugin-sdk';

/**
 * One aes128gcm record of 4096 bytes holds 4096 - 86 (header with keyid) - 16 (tag) - 1
 * (padding delimiter) = 3993 bytes of plaintext: the most every push service must accept.
 */
export const WEB_PUSH_PLAINTEXT_LIMIT = 3993;

/** What the service worker receives (`event.data.json()`); the README's snippet shows it. */
export interface WebPushPayload {
  title: string;
  body?: string;
  icon?: string;
  image?: string;
  badge?: number;
  url?: string;
  tag?: string;
  data?: Record<string, string>;
  deliveryId: string;
}

export function buildWebPushPayload(job: DeliveryJob): string {
  const c = job.content;
  const payload: WebPushPayload = { title: c.title ?? '', deliveryId: job.deliveryId };
  if (c.body !== undefined) payload.body = c.body;
  if (c.icon !== undefined) payload.icon = c.icon;
  if (c.image !== undefined) payload.image = c.image;
  if (c.badge !== undefined) payload.badge = c.badge;
  if (c.url !== undefined) payload.url = c.url;
  if (job.collapseKey !== undefined) payload.tag = job.collapseKey;
  if (c.data !== undefined && Object.keys(c.data).length > 0) payload.data = c.data;
  const text = JSON.stringify(payload);
  const size = Buffer.byteLength(text);
  if (size > WEB_PUSH_PLAINTEXT_LIMIT) {
    throw new PermanentError(
      `Web Push payload is ${size} bytes, over the ${WEB_PUSH_PLAINTEXT_LIMIT} one record holds`,
      { code: 'payload_too_large' },
    );
  }
  return text;
}

/** RFC 8030 Topic: at most 32 URL-safe base64 characters. Longer or other keys are hashed into that shape. */
export function pushTopic(collapseKey: string): string {
  return /^[A-Za-z0-9_-]{1,32}$/.test(collapseKey)
    ? collapseKey
    : createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}

/** Seconds the push service should keep the message for an offline browser. */
export function pushTtl(expiresAt: string | undefined, now = Date.now()): number {
  if (expiresAt === undefined) return 4 * 7 * 24 * 3600; // web-push's own default: four weeks
  return Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000));
}
