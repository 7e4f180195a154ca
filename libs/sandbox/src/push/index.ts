import type { Fake } from '../fake';
import { apnsFake } from './apns-fake';
import { fcmFake } from './fcm-fake';
import { webPushFake } from './webpush-fake';

export * from './apns-fake';
export * from './apns-reasons';
export * from './fcm-fake';
export * from './fcm-errors';
export { validateFcmBody, FCM_PAYLOAD_LIMIT } from './fcm-message';
export * from './webpush-fake';
export { decryptAes128gcm, WebPushDecryptError } from './webpush-crypto';
export { sandboxTls, type SandboxTls } from './tls';

/** Fake APNs, FCM and Web Push services (issue 3). */
export function pushFakes(): Fake[] {
  return [apnsFake(), fcmFake(), webPushFake()];
}
