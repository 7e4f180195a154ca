import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `clarion_notification_delivery_floor(notification_id)`: the smallest delivery id a notification's
 * deliveries can have, the UUIDv7 floor of its id's own time less an hour (clock skew between
 * hosts); the nil UUID for an id that is not a UUIDv7, which bounds nothing. `deliveries` is
 * partitioned by day of its UUIDv7 id, so a per-row lookup of one notification's deliveries bounded
 * by it (and above by `clarion_uuidv7_floor_at(now() + 1 hour)`) probes the notification's days
 * only, not every day kept (retention) and made ahead (a week). Both are immutable SQL, inlined, so
 * PostgreSQL prunes with them at run time, row by row.
 */
export class NotificationDeliveryFloor1765200000015 implements MigrationInterface {
  name = 'NotificationDeliveryFloor1765200000015';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION clarion_uuidv7_floor_ms(ms bigint) RETURNS uuid
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT (lpad(to_hex(greatest(ms, 0)), 12, '0') || '70008000000000000000')::uuid $$;
      CREATE FUNCTION clarion_uuidv7_floor_at(at timestamptz) RETURNS uuid
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT clarion_uuidv7_floor_ms((extract(epoch FROM at) * 1000)::bigint) $$;
      CREATE FUNCTION clarion_notification_delivery_floor(notification_id uuid) RETURNS uuid
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN substr(notification_id::text, 15, 1) = '7'
                          THEN clarion_uuidv7_floor_ms(
                                 ('x' || lpad(replace(substr(notification_id::text, 1, 13), '-', ''), 16, '0'))::bit(64)::bigint
                                 - 3600000)
                          ELSE '00000000-0000-0000-0000-000000000000'::uuid END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION clarion_notification_delivery_floor(uuid);
      DROP FUNCTION clarion_uuidv7_floor_at(timestamptz);
      DROP FUNCTION clarion_uuidv7_floor_ms(bigint);
    `);
  }
}
