import { z } from 'zod';
import { LinkSigner } from './signed-link';

/** What an unsubscribe link says: this user of this app wants no more e-mail of this category (`*`: none). */
export interface UnsubscribeClaim {
  appId: string;
  /** Internal user id (users.id). */
  userId: string;
  category: string;
}

/** Strict: a token of another kind (a preference-centre link) is not an unsubscribe token. */
const payloadSchema = z
  .object({ v: z.literal(1), a: z.uuid(), u: z.uuid(), c: z.string().min(1).max(100) })
  .strict();

/**
 * Unsubscribe tokens (see LinkSigner). They do not expire: RFC 8058 links must keep working for
 * the life of the e-mail, and all they can do is turn e-mail off for one user.
 */
export class UnsubscribeTokens {
  private readonly signer: LinkSigner;

  constructor(encryptionKeyBase64: string) {
    this.signer = new LinkSigner(encryptionKeyBase64);
  }

  sign(claim: UnsubscribeClaim): string {
    return this.signer.sign({ v: 1, a: claim.appId, u: claim.userId, c: claim.category });
  }

  /** The claim, or a 400 (not a token) / 401 (not signed by us) ApiError. */
  verify(token: unknown): UnsubscribeClaim {
    const p = this.signer.verify(token, payloadSchema, 'unsubscribe link');
    return { appId: p.a, userId: p.u, category: p.c };
  }
}
