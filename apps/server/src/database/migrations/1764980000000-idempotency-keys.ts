import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `Idempotency-Key` answers: the first answer to a write, replayed for the same key and request.
 * `status` NULL marks a request still running (a concurrent repeat is refused, not run twice).
 * `scope` is the caller: `app:<id>` (a client key adds its user) or `admin`.
 */
export class IdempotencyKeys1764980000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764980000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status integer,
        body jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS idempotency_keys');
  }
}
