import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A key's public id: `ck_` + 24 url-safe chars. */
export const newAppKey = (): string => `ck_${randomBytes(18).toString('base64url')}`;
/** What newAppKey makes: anything else is refused before a lookup (and never cached). */
export const APP_KEY_FORMAT = /^ck_[A-Za-z0-9_-]{24}$/;
/** A secret with 256 bits of entropy: shown once, stored as a SHA-256 digest. */
export const newAppSecret = (): string => `cs_${randomBytes(32).toString('base64url')}`;

/** High-entropy secrets need no slow KDF (no dictionary to guess from); SHA-256 keeps auth cheap per request. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
