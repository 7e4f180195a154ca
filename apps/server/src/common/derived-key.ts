import { hkdfSync } from 'node:crypto';

/**
 * A 32-byte key for one purpose, derived from CLARION_ENCRYPTION_KEY (HKDF-SHA256 with the
 * purpose as its label): no new secret to manage, the encryption key itself never signs anything,
 * and keys of different purposes are unrelated.
 */
export function derivedKey(encryptionKeyBase64: string, label: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(encryptionKeyBase64, 'base64'), Buffer.alloc(0), label, 32),
  );
}
