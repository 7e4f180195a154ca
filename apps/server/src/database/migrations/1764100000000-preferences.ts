import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * User preferences: one row per (user, channel, category) rule; `*` is the wildcard for
 * "every channel" / "every category". The most specific row wins (see preference-rules.ts).
 * Written by the preferences API, the unsubscribe link, SMS STOP replies and provider callbacks.
 */
export class Preferences1764100000000 implements MigrationInterface {
  name = 'Preferences1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_preferences (
        app_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        channel text NOT NULL,
        category text NOT NULL,
        enabled boolean NOT NULL,
        source text NOT NULL DEFAULT 'api',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, channel, category)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS user_preferences');
  }
}
