import type { Fake } from '../fake';
import { apnsFake } from './apns-fake';
import { fcmFake } from './fcm-fake';
import { webPushFake } from './webpush-fake';

export * from './apns-fake';
export * from './apns-reasons';
export * from './fcm-errors';
export * from './fcm-fake';
export { FCM_PAYLOAD_LIMIT, validateFcmBody } from './fcm-message';
export { type SandboxTls, sandboxTls } from './tls';
export { decryptAes128gcm, WebPushDecryptError } from './webpush-crypto';
export * from './webpush-fake';

/** Fake APNs, FCM and Web Push services. */
export function pushFakes(ports: { apns?: number; fcm?: number; webpush?: number } = {}): Fake[] {
  const port = (p: number | undefined) => (p === undefined ? {} : { port: p });
  return [apnsFake(port(ports.apns)), fcmFake(port(ports.fcm)), webPushFake(port(ports.webpush))];
}
