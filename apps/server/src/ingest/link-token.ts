import { createHmac, timingSafeEqual } from 'node:crypto';
import { derivedKey } from '../common/derived-key';

/** Index 255 marks the open pixel; 0–254 are the delivery's links. */
export const OPEN_PIXEL = 255;
export const MAX_LINKS = 255;
const MAC_BYTES = 12;

/**
 * Short signed tokens for tracking URLs: delivery id (16 bytes) + link index (1 byte) + a
 * truncated HMAC-SHA256 (12 bytes), base64url: 39 characters. Nobody can forge a token for a
 * link or delivery, so `/t/…` only ever redirects to a URL that was in the rendered message.
 */
export class LinkSigner {
  private readonly key: Buffer;

  constructor(encryptionKeyBase64: string) {
    this.key = derivedKey(encryptionKeyBase64, 'clarion tracking links v1');
  }

  sign(deliveryId: string, index: number): string {
    const body = Buffer.concat([Buffer.from(deliveryId.replaceAll('-', ''), 'hex'), Buffer.from([index])]);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** The delivery and link index, or null for anything not signed by us. */
  verify(token: string): { deliveryId: string; index: number } | null {
    if (!/^[A-Za-z0-9_-]{39}$/.test(token)) return null;
    const raw = Buffer.from(token, 'base64url');
    // Only the canonical spelling: the last character's two spare bits must be zero.
    if (raw.length !== 17 + MAC_BYTES || raw.toString('base64url') !== token) return null;
    const body = raw.subarray(0, 17);
    if (!timingSafeEqual(raw.subarray(17), this.mac(body))) return null;
    const hex = body.subarray(0, 16).toString('hex');
    const deliveryId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return { deliveryId, index: body[16]! };
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}
