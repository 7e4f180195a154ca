import { randomBytes } from 'node:crypto';
import type { RepositoryShape } from '../database/repository-shape';
import type { AppRepository } from './app-repository';
import type { SecretBox } from './secret-box';

/** A new user-token secret: 32 random bytes, base64url. */
export const newUserTokenSecret = (): string => randomBytes(32).toString('base64url');

/** Sealed values look like `v1.<iv>.<tag>.<data>`; a secret written in plaintext has no dot. */
const isSealed = (stored: string): boolean => stored.startsWith('v1.');

/** Opens a stored secret; one still in plaintext (not sealed yet by this version) is used as it is. */
export const openSecret = (box: SecretBox, stored: string): string =>
  isSealed(stored) ? box.open(stored) : stored;

/**
 * Seals every user-token secret still stored in plaintext. Idempotent and safe to run from
 * several processes at once (a row is replaced only if it still holds the plaintext read).
 */
export async function sealPlaintextUserTokenSecrets(
  apps: RepositoryShape<AppRepository>,
  box: SecretBox,
): Promise<number> {
  let sealed = 0;
  for (const { appId, secret } of await apps.plaintextUserTokenSecrets()) {
    if (await apps.replaceUserTokenSecret(appId, secret, box.seal(secret))) sealed += 1;
  }
  return sealed;
}

/** The secrets a user token may be signed with now: the current one, then the previous one within its grace. */
export async function readUserTokenSecrets(
  apps: RepositoryShape<AppRepository>,
  box: SecretBox,
  appId: string,
): Promise<string[]> {
  const row = await apps.userTokenSecrets(appId);
  if (!row) return [];
  const secrets = [openSecret(box, row.current)];
  if (row.previous && row.previousValid) secrets.push(openSecret(box, row.previous));
  return secrets;
}
