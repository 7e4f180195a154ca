import { type DeliveryJob, PermanentError } from '@clarion/plugin-sdk';

/** FCM refuses a message whose payload exceeds 4096 bytes (2048 for topics; Clarion sends to tokens). */
export const FCM_PAYLOAD_LIMIT = 4096;
/** android.ttl upper bound: four weeks. */
const MAX_TTL_S = 2_419_200;

/** The subset of the HTTP v1 `Message` resource Clarion sends. Field names are the wire's. */
export interface FcmMessage {
  token: string;
  notification?: { title?: string; body?: string; image?: string };
  data?: Record<string, string>;
  android: {
    priority: 'HIGH' | 'NORMAL';
    ttl?: string;
    collapse_key?: string;
    notification?: {
      channel_id?: string;
      sound?: string;
      click_action?: string;
      icon?: string;
      image?: string;
      notification_count?: number;
      tag?: string;
    };
  };
}

/**
 * Maps a rendered delivery onto an FCM HTTP v1 message for Android. A background push is a
 * data-only message (the app handles it, nothing is shown). Throws PermanentError for a payload
 * over 4 KB before sending: FCM would answer INVALID_ARGUMENT every time.
 */
export function buildFcmMessage(job: DeliveryJob, token: string, now = Date.now()): FcmMessage {
  const c = job.content;
  const background = job.pushType === 'background';
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.data ?? {})) data[k] = String(v); // FCM: data values must be strings
  if (c.url !== undefined) data.url ??= c.url;
  const message: FcmMessage = {
    token,
    android: { priority: job.priority === 'high' ? 'HIGH' : 'NORMAL' },
  };
  if (!background) {
    message.notification = {
      ...(c.title !== undefined ? { title: c.title } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
      ...(c.image !== undefined ? { image: c.image } : {}),
    };
    const n: NonNullable<FcmMessage['android']['notification']> = {};
    if (c.androidChannelId !== undefined) n.channel_id = c.androidChannelId;
    if (c.sound !== undefined) n.sound = c.sound;
    if (c.actionCategory !== undefined) n.click_action = c.actionCategory;
    if (c.icon !== undefined) n.icon = c.icon;
    if (c.badge !== undefined) n.notification_count = c.badge;
    // A collapse key also replaces the notification already shown in the tray.
    if (job.collapseKey !== undefined) n.tag = job.collapseKey;
    if (Object.keys(n).length > 0) message.android.notification = n;
  }
  if (Object.keys(data).length > 0) message.data = data;
  if (job.expiresAt !== undefined) {
    const seconds = Math.min(MAX_TTL_S, Math.max(0, Math.floor((Date.parse(job.expiresAt) - now) / 1000)));
    message.android.ttl = `${seconds}s`;
  }
  if (job.collapseKey !== undefined) message.android.collapse_key = job.collapseKey;
  const { token: _token, ...payload } = message;
  const size = Buffer.byteLength(JSON.stringify(payload));
  if (size > FCM_PAYLOAD_LIMIT) {
    throw new PermanentError(`FCM payload is ${size} bytes, over the ${FCM_PAYLOAD_LIMIT}-byte limit`, {
      code: 'payload_too_large',
    });
  }
  return message;
}
