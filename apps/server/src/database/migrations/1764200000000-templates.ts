import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Templates: one row per (app, key) pointing at its latest version, and immutable version rows
 * (content per channel, locale variants, the checks computed when it was published). A
 * notification records the key and version it used, so an old message can always be explained
 * with the exact text it was rendered from.
 */
export class Templates1764200000000 implements MigrationInterface {
  name = 'Templates1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE templates (
        app_id uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        key text NOT NULL,
        latest_version integer NOT NULL,
        archived_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (app_id, key)
      );
      CREATE TABLE template_versions (
        app_id uuid NOT NULL,
        key text NOT NULL,
        version integer NOT NULL,
        description text,
        default_locale text,
        content jsonb NOT NULL,
        locales jsonb NOT NULL DEFAULT '{}',
        checks jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (app_id, key, version),
        FOREIGN KEY (app_id, key) REFERENCES templates (app_id, key) ON DELETE CASCADE
      );
      ALTER TABLE notifications ADD COLUMN template_key text, ADD COLUMN template_version integer;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE notifications DROP COLUMN IF EXISTS template_key, DROP COLUMN IF EXISTS template_version;
      DROP TABLE IF EXISTS template_versions, templates;
    `);
  }
}
