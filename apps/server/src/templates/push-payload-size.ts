import { APNS_PAYLOAD_LIMIT, buildNotification } from '@clarion/plugin-apns';
import { buildFcmMessage, FCM_PAYLOAD_LIMIT } from '@clarion/plugin-fcm';
import type { DeliveryJob, MessageContent } from '@clarion/plugin-sdk';
import { buildWebPushPayload, WEB_PUSH_PLAINTEXT_LIMIT } from '@clarion/plugin-webpush';

export interface PayloadSize {
  bytes: number;
  limit: number;
  ok: boolean;
}

/** A stand-in delivery: ids the size of real ones, so the estimate is the wire size. */
function job(channel: string, content: MessageContent): DeliveryJob {
  return {
    deliveryId: '00000000-0000-7000-8000-000000000000',
    notificationId: '00000000-0000-7000-8000-000000000000',
    appId: '00000000-0000-7000-8000-000000000000',
    channel,
    plugin: 'estimate',
    address: { kind: 'device', contactId: '', platform: 'ios', token: '0'.repeat(64) },
    content,
    priority: 'normal',
    pushType: 'alert',
    acceptedAt: new Date(0).toISOString(),
  };
}

/**
 * Size of what a plugin would put on the wire, measured with the plugin's own payload builder
 * (so the estimate cannot drift from what is sent). The builders refuse an oversized payload
 * with a message that carries its size; that is read back rather than re-implementing them.
 */
function measure(build: () => string, limit: number): PayloadSize {
  try {
    const bytes = Buffer.byteLength(build());
    return { bytes, limit, ok: bytes <= limit };
  } catch (error) {
    const bytes = Number(/(\d+) bytes/.exec((error as Error).message)?.[1] ?? limit + 1);
    return { bytes, limit, ok: false };
  }
}

/** The APNs payload's size for `push` content. */
function apnsSize(content: MessageContent): PayloadSize {
  const j = job('push', content);
  return measure(() => JSON.stringify(buildNotification(j, 'com.example.app')), APNS_PAYLOAD_LIMIT);
}

/** The FCM message's size for `push` content (without the token, which FCM does not count). */
function fcmSize(content: MessageContent): PayloadSize {
  const j = job('push', content);
  return measure(() => {
    const { token: _token, ...payload } = buildFcmMessage(j, 'x'.repeat(163));
    return JSON.stringify(payload);
  }, FCM_PAYLOAD_LIMIT);
}

/** APNs and FCM payload sizes for `push` content. */
export function pushSizes(content: MessageContent): { apns: PayloadSize; fcm: PayloadSize } {
  return { apns: apnsSize(content), fcm: fcmSize(content) };
}

/** Web Push plaintext size for `web` content (one aes128gcm record). */
export function webSizes(content: MessageContent): { webpush: PayloadSize } {
  return { webpush: measure(() => buildWebPushPayload(job('web', content)), WEB_PUSH_PLAINTEXT_LIMIT) };
}

/**
 * The wire size for one push plugin (`apns`, `fcm`, `webpush`); undefined for any other plugin.
 * Only that plugin's payload is built: this runs for every push delivery planned.
 */
export function payloadSizeFor(plugin: string, content: MessageContent): PayloadSize | undefined {
  switch (plugin) {
    case 'apns':
      return apnsSize(content);
    case 'fcm':
      return fcmSize(content);
    case 'webpush':
      return webSizes(content).webpush;
    default:
      return undefined;
  }
}
