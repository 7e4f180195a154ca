import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The user-token secret is stored sealed with CLARION_ENCRYPTION_KEY (as integration credentials
 * are) and may be rotated: the previous secret, sealed too, keeps verifying tokens until its time
 * is up. Sealing the rows written in plaintext before needs the key, which migrations do not have:
 * each process seals them at start (apps/user-token-secrets.ts), and `clarion migrate` does when
 * the key is set.
 */
export class UserTokenSecretRotation1764960000000 implements MigrationInterface {
  name = 'UserTokenSecretRotation1764960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE apps
      ADD COLUMN IF NOT EXISTS previous_user_token_secret text,
      ADD COLUMN IF NOT EXISTS previous_user_token_secret_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE apps
      DROP COLUMN IF EXISTS previous_user_token_secret,
      DROP COLUMN IF EXISTS previous_user_token_secret_until`);
  }
}
