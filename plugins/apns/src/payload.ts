import { type DeliveryJob, PermanentError } from '@clarion/plugin-sdk';
import apn from '@parse/node-apn';

/** Apple's limit for every push type Clarion sends (VoIP's 5 KB does not apply). */
export const APNS_PAYLOAD_LIMIT = 4096;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Maps a rendered delivery onto an APNs notification. Throws PermanentError for a payload over
 * 4 KB, before anything is sent: Apple would answer 413 every time.
 */
export function buildNotification(job: DeliveryJob, topic: string): apn.Notification {
  const c = job.content;
  const note = new apn.Notification();
  note.topic = topic;
  const background = job.pushType === 'background';
  note.pushType = background ? 'background' : 'alert';
  // Apple refuses priority 10 for background pushes; 5 lets the device batch for battery.
  note.priority = !background && job.priority === 'high' ? 10 : 5;
  if (job.expiresAt !== undefined) note.expiry = Math.max(0, Math.floor(Date.parse(job.expiresAt) / 1000));
  if (job.collapseKey !== undefined) note.collapseId = job.collapseKey;
  // The delivery id as apns-id lets Apple's delivery log be matched to Clarion's.
  if (UUID.test(job.deliveryId)) note.id = job.deliveryId;
  if (background) {
    note.contentAvailable = true;
  } else {
    note.alert = { body: c.body ?? '', ...(c.title !== undefined ? { title: c.title } : {}) };
    note.sound = c.sound ?? 'default';
  }
  if (c.badge !== undefined) note.badge = c.badge;
  if (c.actionCategory !== undefined) note.aps.category = c.actionCategory;
  if (c.threadId !== undefined) note.threadId = c.threadId;
  if (c.mutableContent || c.image !== undefined) note.mutableContent = true;
  const custom: Record<string, string> = { ...c.data };
  if (c.url !== undefined) custom.url ??= c.url;
  if (c.image !== undefined) custom.image ??= c.image;
  custom.clarionDeliveryId ??= job.deliveryId;
  note.payload = custom;
  // What node-apn will put on the wire (`compile()` is not in its typings; toJSON is what it serialises).
  const size = Buffer.byteLength(JSON.stringify(note));
  if (size > APNS_PAYLOAD_LIMIT) {
    throw new PermanentError(`APNs payload is ${size} bytes, over Apple's ${APNS_PAYLOAD_LIMIT}`, {
      code: 'PayloadTooLarge',
    });
  }
  return note;
}
