import { z } from 'zod';
import { ApiError } from '../common/api-error';
import { LinkSigner } from './signed-link';

/** What a preference-centre link says: its holder may manage this user's preferences until `expiresAt`. */
export interface PreferenceCentreClaim {
  appId: string;
  /** Internal user id (users.id). */
  userId: string;
  expiresAt: Date;
}

/** `p` names the purpose: an unsubscribe token never passes this schema, nor this token theirs. */
const payloadSchema = z
  .object({ v: z.literal(1), p: z.literal('preferences'), a: z.uuid(), u: z.uuid(), e: z.int().positive() })
  .strict();

/**
 * Preference-centre tokens, signed like unsubscribe links (same derived key). Unlike those they
 * expire: they can turn channels back on, so a forwarded old e-mail should not keep that power.
 */
export class PreferenceCentreTokens {
  private readonly signer: LinkSigner;

  constructor(encryptionKeyBase64: string) {
    this.signer = new LinkSigner(encryptionKeyBase64);
  }

  sign(claim: PreferenceCentreClaim): string {
    return this.signer.sign({
      v: 1,
      p: 'preferences',
      a: claim.appId,
      u: claim.userId,
      e: Math.floor(claim.expiresAt.getTime() / 1000),
    });
  }

  /** The claim, or a 400 (not such a token) / 401 (not signed by us) / 410 (expired) ApiError. */
  verify(token: unknown, now = new Date()): PreferenceCentreClaim {
    const p = this.signer.verify(token, payloadSchema, 'preferences link');
    if (p.e * 1000 <= now.getTime()) {
      throw new ApiError(410, 'expired_token', 'this preferences link has expired; ask for a new one');
    }
    return { appId: p.a, userId: p.u, expiresAt: new Date(p.e * 1000) };
  }
}
