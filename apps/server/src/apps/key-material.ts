import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A key's public id, its kind readable at a glance (as Stripe's): `sk_` for server keys, which
 * must stay on a backend, `pk_` for client (publishable) keys, + 24 url-safe chars.
 */
export const newAppKey = (kind: 'server' | 'client'): string =>
  `${kind === 'server' ? 'sk' : 'pk'}_${randomBytes(18).toString('base64url')}`;
/**
 * What newAppKey makes, and `ck_`, the prefix of keys of either kind made before the split (they
 * keep working; their kind is the stored one, as for every key). Anything else is refused before a
 * lookup (and never cached).
 */
export const APP_KEY_FORMAT = /^(sk|pk|ck)_[A-Za-z0-9_-]{24}$/;
/** A secret with 256 bits of entropy: shown once, stored as a SHA-256 digest. */
export const newAppSecret = (): string => `cs_${randomBytes(32).toString('base64url')}`;

/** High-entropy secrets need no slow KDF (no dictionary to guess from); SHA-256 keeps auth cheap per request. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
