import { createECDH } from 'node:crypto';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

// One local key pair: deriving a secret with it checks that a browser's key is a point on P-256.
const probe = createECDH('prime256v1');
probe.generateKeys();

/**
 * Why a subscription's keys cannot be used for RFC 8291 encryption, or undefined when they can:
 * `p256dh` must be a 65-byte uncompressed P-256 point (0x04, on the curve), `auth` 16 bytes, both base64url.
 */
export function webPushKeysProblem(keys: { p256dh: string; auth: string }): string | undefined {
  if (!BASE64URL.test(keys.p256dh)) return 'p256dh is not base64url';
  if (!BASE64URL.test(keys.auth)) return 'auth is not base64url';
  const point = Buffer.from(keys.p256dh, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) return 'p256dh must be a 65-byte uncompressed P-256 point';
  if (Buffer.from(keys.auth, 'base64url').length !== 16) return 'auth must be 16 bytes';
  try {
    probe.computeSecret(point);
  } catch {
    return 'p256dh is not a point on the P-256 curve';
  }
  return undefined;
}
