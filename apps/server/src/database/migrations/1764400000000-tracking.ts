import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery tracking: the links a delivery's tracking URLs may redirect to, keyset paging of a
 * user's deliveries, the hourly stats rollup (read by GET /v1/stats instead of scanning
 * deliveries) and the apps' outbound status webhooks.
 */
export class Tracking1764400000000 implements MigrationInterface {
  name = 'Tracking1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE deliveries ADD COLUMN links jsonb;
      CREATE INDEX deliveries_user_id_desc ON deliveries (user_id, id DESC);
      CREATE INDEX deliveries_provider_message ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;
      CREATE TABLE delivery_stats (
        bucket timestamptz NOT NULL,
        app_id uuid NOT NULL,
        channel text NOT NULL,
        plugin text NOT NULL,
        template text NOT NULL,
        category text NOT NULL,
        metric text NOT NULL,
        reason text NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (app_id, bucket, channel, plugin, template, category, metric, reason)
      );
      -- The same counts with at most one dimension fixed ('' = all, 'channel=email', 'template=welcome'…):
      -- what GET /v1/stats reads unless it filters on two dimensions at once. A month is ~10k rows per dimension value.
      CREATE TABLE delivery_stats_dim (
        bucket timestamptz NOT NULL,
        app_id uuid NOT NULL,
        dim text NOT NULL,
        metric text NOT NULL,
        reason text NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (app_id, dim, bucket, metric, reason)
      );
      CREATE TABLE status_webhooks (
        id uuid PRIMARY KEY,
        app_id uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[] NOT NULL,
        secret_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX status_webhooks_app ON status_webhooks (app_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS status_webhooks, delivery_stats_dim, delivery_stats;
      DROP INDEX IF EXISTS deliveries_provider_message, deliveries_user_id_desc;
      ALTER TABLE deliveries DROP COLUMN IF EXISTS links;
    `);
  }
}
