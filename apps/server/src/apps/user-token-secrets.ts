import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { rows } from '../database/rows';
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
export async function sealPlaintextUserTokenSecrets(db: DataSource, box: SecretBox): Promise<number> {
  const plain: { id: string; user_token_secret: string }[] = await db.query(
    `SELECT id, user_token_secret FROM apps WHERE user_token_secret NOT LIKE 'v1.%'`,
  );
  let sealed = 0;
  for (const row of plain) {
    const updated = await rows(
      db,
      'UPDATE apps SET user_token_secret = $3 WHERE id = $1 AND user_token_secret = $2 RETURNING id',
      [row.id, row.user_token_secret, box.seal(row.user_token_secret)],
    );
    sealed += updated.length;
  }
  return sealed;
}

/** The secrets a user token may be signed with now: the current one, then the previous one within its grace. */
export async function readUserTokenSecrets(
  db: DataSource | EntityManager,
  box: SecretBox,
  appId: string,
): Promise<string[]> {
  const [row]: {
    current: string;
    previous: string | null;
    previous_valid: boolean;
  }[] = await db.query(
    `SELECT user_token_secret AS current, previous_user_token_secret AS previous,
            coalesce(previous_user_token_secret_until > now(), false) AS previous_valid
       FROM apps WHERE id = $1`,
    [appId],
  );
  if (!row) return [];
  const secrets = [openSecret(box, row.current)];
  if (row.previous && row.previous_valid) secrets.push(openSecret(box, row.previous));
  return secrets;
}
