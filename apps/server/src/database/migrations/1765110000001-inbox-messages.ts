import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * In-app inbox messages: one per `inbox` delivery (same id, so a retried send writes nothing
 * twice). The user's external id is kept beside the internal one because every inbox request
 * names the user by it. Listed newest first by (created_at, id), the keyset cursor.
 */
export class InboxMessages1765110000001 implements MigrationInterface {
  name = 'InboxMessages1765110000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE inbox_messages (
        id uuid PRIMARY KEY,
        app_id uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        notification_id uuid NOT NULL,
        category text,
        title text NOT NULL,
        body text NOT NULL,
        url text,
        data jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        archived_at timestamptz
      );
      CREATE INDEX inbox_messages_user_feed ON inbox_messages (user_id, created_at DESC, id DESC);
      CREATE INDEX inbox_messages_user_unread ON inbox_messages (user_id)
        WHERE read_at IS NULL AND archived_at IS NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE inbox_messages');
  }
}
