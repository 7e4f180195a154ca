import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../common/api-error';

/** What an unsubscribe link says: this user of this app wants no more e-mail of this category (`*`: none). */
export interface UnsubscribeClaim {
  appId: string;
  /** Internal user id (users.id). */
  userId: string;
  category: string;
}

const payloadSchema = z
  .object({ v: z.literal(1), a: z.uuid(), u: z.uuid(), c: z.string().min(1).max(100) })
  .strict();

/**
 * Signed, stateless unsubscribe tokens: `base64url(json).base64url(hmac-sha256)`. The key is
 * derived from CLARION_ENCRYPTION_KEY (HKDF, own label), so no new secret to manage, and rotating
 * that key invalidates old links. Tokens do not expire: RFC 8058 links must keep working for the
 * life of the e-mail, and all they can do is turn e-mail off for one user.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  constructor(encryptionKeyBase64: string) {
    this.key = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(encryptionKeyBase64, 'base64'),
        Buffer.alloc(0),
        'clarion unsubscribe link v1',
        32,
      ),
    );
  }

  sign(claim: UnsubscribeClaim): string {
    const body = Buffer.from(
      JSON.stringify({ v: 1, a: claim.appId, u: claim.userId, c: claim.category }),
    ).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The claim, or a 400 (not a token) / 401 (not signed by us) ApiError. */
  verify(token: unknown): UnsubscribeClaim {
    if (typeof token !== 'string' || token.length > 2000)
      throw new ApiError(400, 'invalid_token', 'this unsubscribe link is malformed');
    const parts = token.split('.');
    if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]{43}$/.test(parts[1]!)) {
      throw new ApiError(400, 'invalid_token', 'this unsubscribe link is malformed');
    }
    const [body, mac] = parts as [string, string];
    const expected = Buffer.from(this.mac(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ApiError(401, 'forged_token', 'this unsubscribe link was not issued by this server');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw new ApiError(400, 'invalid_token', 'this unsubscribe link is malformed');
    }
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) throw new ApiError(400, 'invalid_token', 'this unsubscribe link is malformed');
    return { appId: parsed.data.a, userId: parsed.data.u, category: parsed.data.c };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
