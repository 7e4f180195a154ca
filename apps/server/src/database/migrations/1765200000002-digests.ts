import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Digests: notifications that name `digest: {key, window}` join the open digest of their user and
 * key; when its window closes one message goes out. At most one `open` digest per (app, user, key)
 * (the partial unique index every join's ON CONFLICT takes, and locks). `user_id` is the app's
 * own user id (the request's `to.userId`, the user need not exist yet). Status: open → closing
 * (claimed by a worker; `claimed_at` is its lease, NULL when a late join closed it) → sent or
 * failed. Items are deleted once the digest is sent (the message holds what it needed).
 */
export class Digests1765200000002 implements MigrationInterface {
  name = 'Digests1765200000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE digests (
        id uuid PRIMARY KEY,
        app_id uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        user_id text NOT NULL,
        key text NOT NULL,
        status text NOT NULL CHECK (status IN ('open', 'closing', 'sent', 'failed')),
        request jsonb NOT NULL,
        client_sent boolean NOT NULL DEFAULT false,
        item_count integer NOT NULL DEFAULT 1,
        opens_at timestamptz NOT NULL DEFAULT now(),
        closes_at timestamptz NOT NULL,
        claimed_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        notification_id uuid,
        error text,
        finished_at timestamptz
      );
      CREATE UNIQUE INDEX digests_open_key ON digests (app_id, user_id, key) WHERE status = 'open';
      CREATE INDEX digests_due ON digests (closes_at) WHERE status IN ('open', 'closing');
      CREATE TABLE digest_items (
        digest_id uuid NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
        notification_id uuid NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (digest_id, notification_id)
      );
      CREATE INDEX digest_items_order ON digest_items (digest_id, created_at, notification_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE digest_items, digests');
  }
}
