import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deliveries and their events become tables partitioned by day, so retention drops a whole day
 * (DETACH + DROP, no dead rows for vacuum) instead of deleting tens of millions of rows.
 *
 * The partition key is the UUIDv7 delivery id (range per UTC day), not a timestamp column: every
 * lookup already names the id (`GET` by id, status writes by `id = ANY`, the per-user log by
 * `(user_id, id DESC)`), so the primary key stays `(id)` and those lookups prune to one partition.
 * Events are partitioned by `delivery_id` on the same day boundaries: a day's deliveries and their
 * events are dropped together, and an event lookup by delivery id prunes the same way.
 *
 * A unique index on a partitioned table must contain the partition key, so `deliveries_once
 * (notification_id, contact_id, channel)` is a unique index on each partition instead
 * (`ON CONFLICT DO NOTHING` without a target checks every unique index of the partition a row lands in).
 * Its guarantee is per day of delivery id: a fan-out chunk resumed across midnight is still
 * stopped by the fan-out's own "not planned yet" read.
 *
 * Events keep one index, `(delivery_id, id)` as primary key, instead of `(id)` plus `(delivery_id)`:
 * one index entry less per event written. Delivery partitions get fillfactor 80 so an update
 * can put the new row version on the same page.
 *
 * There is no default partition: one would hold ids of any time, so the planner could no longer read
 * partitions in id order (the per-user log would start a scan in every partition). Day partitions
 * are made ahead instead, by `clarion_add_delivery_partitions` (deliveries/partitions.ts
 * runs it at start and hourly, a week ahead). Existing rows are moved here, in one transaction,
 * each into the partition of the day its id encodes.
 */
export class PartitionDeliveries1765090000000 implements MigrationInterface {
  name = 'PartitionDeliveries1765090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION clarion_uuidv7_floor(t timestamptz) RETURNS uuid
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-8000-000000000000')::uuid
            FROM (SELECT lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') AS h) x
        $$;

      CREATE OR REPLACE FUNCTION clarion_add_delivery_partitions(first_day date, last_day date) RETURNS integer
        LANGUAGE plpgsql AS $$
        DECLARE
          day date;
          lo uuid;
          hi uuid;
          d text;
          e text;
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
            EXECUTE format('CREATE TABLE %I (LIKE deliveries INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 80)', d);
            EXECUTE format('CREATE TABLE %I (LIKE delivery_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', e);
            EXECUTE format('CREATE UNIQUE INDEX %I ON %I (notification_id, contact_id, channel) WHERE contact_id IS NOT NULL', d || '_once', d);
            EXECUTE format('ALTER TABLE deliveries ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', d, lo, hi);
            EXECUTE format('ALTER TABLE delivery_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', e, lo, hi);
            made := made + 1;
          END LOOP;
          RETURN made;
        END
        $$;

      ALTER TABLE deliveries RENAME TO deliveries_unpartitioned;
      ALTER TABLE delivery_events RENAME TO delivery_events_unpartitioned;
      ALTER SEQUENCE delivery_events_id_seq OWNED BY NONE;

      CREATE TABLE deliveries (LIKE deliveries_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (id);
      CREATE TABLE delivery_events (LIKE delivery_events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (delivery_id);
      ALTER SEQUENCE delivery_events_id_seq OWNED BY delivery_events.id;

      -- A partition for each day the existing ids encode (their first 48 bits, milliseconds since
      -- 1970 in UUIDv7), and for yesterday to a week ahead.
      SELECT clarion_add_delivery_partitions(day, day)
        FROM (SELECT DISTINCT (to_timestamp(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint / 1000.0)
                               AT TIME ZONE 'UTC')::date AS day
                FROM deliveries_unpartitioned) days;
      SELECT clarion_add_delivery_partitions((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7);

      INSERT INTO deliveries SELECT * FROM deliveries_unpartitioned;
      INSERT INTO delivery_events SELECT * FROM delivery_events_unpartitioned;
      DROP TABLE deliveries_unpartitioned, delivery_events_unpartitioned;

      ALTER TABLE deliveries ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);
      CREATE INDEX deliveries_notification ON deliveries (notification_id);
      CREATE INDEX deliveries_user_id_desc ON deliveries (user_id, id DESC);
      CREATE INDEX deliveries_pending ON deliveries (updated_at) WHERE status = 'pending';
      CREATE INDEX deliveries_provider_message ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;
      CREATE INDEX deliveries_queued ON deliveries (id) WHERE status = 'queued';
      CREATE INDEX deliveries_redrivable ON deliveries (app_id, id) WHERE status IN ('failed', 'expired');
      ALTER TABLE delivery_events ADD CONSTRAINT delivery_events_pkey PRIMARY KEY (delivery_id, id);
      ANALYZE deliveries, delivery_events;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE deliveries RENAME TO deliveries_partitioned;
      ALTER TABLE delivery_events RENAME TO delivery_events_partitioned;
      ALTER SEQUENCE delivery_events_id_seq OWNED BY NONE;
      ALTER TABLE deliveries_partitioned DROP CONSTRAINT deliveries_pkey;
      ALTER TABLE delivery_events_partitioned DROP CONSTRAINT delivery_events_pkey;
      DROP INDEX deliveries_notification, deliveries_user_id_desc, deliveries_pending, deliveries_provider_message,
        deliveries_queued, deliveries_redrivable;
      CREATE TABLE deliveries (LIKE deliveries_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
      CREATE TABLE delivery_events (LIKE delivery_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
      INSERT INTO deliveries SELECT * FROM deliveries_partitioned;
      INSERT INTO delivery_events SELECT * FROM delivery_events_partitioned;
      ALTER SEQUENCE delivery_events_id_seq OWNED BY delivery_events.id;
      DROP TABLE deliveries_partitioned, delivery_events_partitioned;
      DROP FUNCTION clarion_add_delivery_partitions(date, date);
      DROP FUNCTION clarion_uuidv7_floor(timestamptz);
      ALTER TABLE deliveries ADD PRIMARY KEY (id);
      CREATE INDEX deliveries_notification ON deliveries (notification_id);
      CREATE INDEX deliveries_user_id_desc ON deliveries (user_id, id DESC);
      CREATE INDEX deliveries_pending ON deliveries (updated_at) WHERE status = 'pending';
      CREATE UNIQUE INDEX deliveries_once ON deliveries (notification_id, contact_id, channel) WHERE contact_id IS NOT NULL;
      CREATE INDEX deliveries_provider_message ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;
      CREATE INDEX deliveries_queued ON deliveries (id) WHERE status = 'queued';
      CREATE INDEX deliveries_redrivable ON deliveries (app_id, id) WHERE status IN ('failed', 'expired');
      ALTER TABLE delivery_events ADD PRIMARY KEY (id);
      CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id);
    `);
  }
}
