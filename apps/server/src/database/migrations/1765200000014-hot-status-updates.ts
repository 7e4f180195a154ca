import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The day-partition maker (migration 1765090000000 made it with fillfactor 80 and no
 * provider_messages day; `down` restores that). `compression`: a new day's `deliveries` takes the
 * table's column compression too (migration 1765200000016).
 */
export const partitionMaker = (
  fillfactor: number,
  providerMessages: boolean,
  compression = false,
  /** Copy the table's per-column statistics targets to each day (migration 1765200000017). */
  statistics = false,
): string => `
  CREATE OR REPLACE FUNCTION clarion_add_delivery_partitions(first_day date, last_day date) RETURNS integer
    LANGUAGE plpgsql AS $$
    DECLARE
      day date;
      lo uuid;
      hi uuid;
      d text;
      e text;${statistics ? '\n      targets text;' : ''}
      made integer := 0;
    BEGIN
      -- One maker at a time (any number of worker processes run the periodic task).
      PERFORM pg_advisory_xact_lock(7400008);
      FOR day IN SELECT g::date FROM generate_series(first_day, last_day, interval '1 day') g LOOP
        d := 'deliveries_p' || to_char(day, 'YYYYMMDD');
        e := 'delivery_events_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(d) IS NOT NULL;
        lo := clarion_uuidv7_floor(day::timestamp AT TIME ZONE 'UTC');
        hi := clarion_uuidv7_floor((day + 1)::timestamp AT TIME ZONE 'UTC');
        EXECUTE format('CREATE TABLE %I (LIKE deliveries INCLUDING DEFAULTS INCLUDING CONSTRAINTS${compression ? ' INCLUDING COMPRESSION' : ''}) WITH (fillfactor = ${fillfactor})', d);
        EXECUTE format('CREATE TABLE %I (LIKE delivery_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', e);${
          statistics
            ? `
        -- LIKE does not copy a column's statistics target: ANALYZE would sample what the table skips.
        targets := (SELECT string_agg(format('ALTER COLUMN %I SET STATISTICS %s', a.attname, a.attstattarget), ', ')
                      FROM pg_attribute a
                     WHERE a.attrelid = 'deliveries'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget >= 0);
        IF targets IS NOT NULL THEN
          EXECUTE format('ALTER TABLE %I ', d) || targets;
        END IF;`
            : ''
        }
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (notification_id, contact_id, channel) WHERE contact_id IS NOT NULL', d || '_once', d);
        EXECUTE format('ALTER TABLE deliveries ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', d, lo, hi);
        EXECUTE format('ALTER TABLE delivery_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', e, lo, hi);${
          providerMessages
            ? `
        EXECUTE format('CREATE TABLE %I PARTITION OF provider_messages FOR VALUES FROM (%L) TO (%L)',
                       'provider_messages_p' || to_char(day, 'YYYYMMDD'), lo, hi);`
            : ''
        }
        made := made + 1;
      END LOOP;
      RETURN made;
    END
    $$;`;

/**
 * HOT status updates (issue 22, WAL per delivery). A delivery's `sent` update (and every later
 * status move) rewrote its row into another page and added an entry to each of its indexes,
 * because four indexes named columns that update changes: the partial indexes on `status`
 * (`deliveries_pending`, `deliveries_queued`, `deliveries_redrivable`) and the one on
 * `provider_message_id`. They move off the table:
 *
 * - `unsettled_deliveries`: one row per delivery that is pending, queued, failed or expired (the
 *   ones the relay recovers and the app redrives), kept by the statements that move deliveries
 *   (deliveries/store/unsettled.ts). Small and churning, so vacuumed early.
 * - `provider_messages`: provider message id → delivery, written when a delivery gets one,
 *   partitioned by delivery id on the same day bounds as `deliveries` (dropped with its day).
 *
 * Pods of the previous version still running during a rolling upgrade write deliveries without
 * keeping either table; the workers walk the deliveries of that time once the rollout is over
 * (`clarion_catch_ups`, deliveries/upgrade-catch-up.ts).
 *
 * What is left indexed on `deliveries` (id, notification, user, the once-per-contact key) never
 * changes after the insert, so a status update is HOT: no index entry, and with the page's free
 * space (fillfactor 60, was 80: the first row version holds the rendered job, ~2× the `sent` one)
 * the new version on the same page, whose WAL record then carries only the changed bytes.
 */
export class HotStatusUpdates1765200000014 implements MigrationInterface {
  name = 'HotStatusUpdates1765200000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE unsettled_deliveries (
        id uuid PRIMARY KEY,
        app_id uuid, -- set for failed and expired ones only: the redrive list reads them by app
        status text NOT NULL
      ) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
      CREATE INDEX unsettled_deliveries_pending ON unsettled_deliveries (id) WHERE status = 'pending';
      CREATE INDEX unsettled_deliveries_redrivable ON unsettled_deliveries (app_id, id) WHERE status IN ('failed', 'expired');
      INSERT INTO unsettled_deliveries (id, app_id, status)
      SELECT id, CASE WHEN status IN ('failed', 'expired') THEN app_id END, status
        FROM deliveries WHERE status IN ('pending', 'queued', 'failed', 'expired');

      CREATE TABLE provider_messages (
        delivery_id uuid NOT NULL,
        provider_message_id text NOT NULL
      ) PARTITION BY RANGE (delivery_id);
      CREATE INDEX provider_messages_id ON provider_messages (provider_message_id);
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = 'deliveries'::regclass LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF provider_messages %s',
                         replace(r.relname, 'deliveries_', 'provider_messages_'), r.bound);
          EXECUTE format('ALTER TABLE %I SET (fillfactor = 60)', r.relname);
        END LOOP;
      END $$;
      INSERT INTO provider_messages (delivery_id, provider_message_id)
      SELECT id, provider_message_id FROM deliveries WHERE provider_message_id IS NOT NULL;

      DROP INDEX deliveries_pending, deliveries_queued, deliveries_redrivable, deliveries_provider_message;

      ${partitionMaker(60, true)}
      ANALYZE unsettled_deliveries, provider_messages;

      -- Pods of the previous version keep writing until the rollout ends, without these tables:
      -- the workers go over the deliveries of that time again (deliveries/upgrade-catch-up.ts).
      CREATE TABLE clarion_catch_ups (
        name text PRIMARY KEY,
        since timestamptz NOT NULL,
        walk_started timestamptz,
        cursor uuid,
        walks integer NOT NULL DEFAULT 0,
        done_at timestamptz
      );
      INSERT INTO clarion_catch_ups (name, since) VALUES ('unsettled-and-provider-ids', now());
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX deliveries_pending ON deliveries (updated_at) WHERE status = 'pending';
      CREATE INDEX deliveries_provider_message ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;
      CREATE INDEX deliveries_queued ON deliveries (id) WHERE status = 'queued';
      CREATE INDEX deliveries_redrivable ON deliveries (app_id, id) WHERE status IN ('failed', 'expired');
      DROP TABLE unsettled_deliveries, provider_messages, clarion_catch_ups;
      ${partitionMaker(80, false)}
    `);
  }
}
