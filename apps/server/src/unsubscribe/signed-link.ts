import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { ApiError } from '../common/api-error';
import { derivedKey } from '../common/derived-key';

/**
 * Signed, stateless link tokens: `base64url(json).base64url(hmac-sha256)`. The key is derived
 * from CLARION_ENCRYPTION_KEY (HKDF, own label), so no new secret to manage, and rotating that
 * key invalidates old links. Each kind of link checks its own strict payload schema, so a token
 * made for one purpose is refused by the others.
 */
export class LinkSigner {
  private readonly key: Buffer;

  constructor(encryptionKeyBase64: string) {
    this.key = derivedKey(encryptionKeyBase64, 'clarion unsubscribe link v1');
  }

  sign(payload: object): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The payload, or a 400 (not a token of this kind) / 401 (not signed by us) ApiError naming `what`. */
  verify<T>(token: unknown, schema: z.ZodType<T>, what: string): T {
    const malformed = () => new ApiError(400, 'invalid_token', `this ${what} is malformed`);
    if (typeof token !== 'string' || token.length > 2000) throw malformed();
    const parts = token.split('.');
    if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]{43}$/.test(parts[1]!)) {
      throw malformed();
    }
    const [body, mac] = parts as [string, string];
    const expected = Buffer.from(this.mac(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ApiError(401, 'forged_token', `this ${what} was not issued by this server`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw malformed();
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw malformed();
    return parsed.data;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
