import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';

/**
 * Retention: deletes up to `batch` of the oldest deliveries (ids below `floor`, a UUIDv7 of the
 * cut) and their history together, so no event outlives its delivery. Returns both counts.
 */
export async function purgeDeliveries(
  q: Queryable,
  floor: string,
  batch: number,
): Promise<{ deliveries: number; events: number }> {
  const [row] = await rows<{ deliveries: string; events: string }>(
    q,
    `WITH d AS (
       DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE id < $1::uuid ORDER BY id LIMIT $2) RETURNING id
     ), e AS (
       DELETE FROM delivery_events WHERE delivery_id IN (SELECT id FROM d) RETURNING 1
     )
     SELECT (SELECT count(*) FROM d) AS deliveries, (SELECT count(*) FROM e) AS events`,
    [floor, batch],
  );
  return { deliveries: Number(row?.deliveries ?? 0), events: Number(row?.events ?? 0) };
}

/** Retention of the stats rollup: deletes up to `batch` rows of one table from hours before `cut`. */
export async function purgeStats(
  q: Queryable,
  table: 'delivery_stats' | 'delivery_stats_dim',
  cut: Date,
  batch: number,
): Promise<number> {
  const deleted = await rows(
    q,
    `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE bucket < $1 ORDER BY bucket LIMIT $2) RETURNING 1`,
    [cut, batch],
  );
  return deleted.length;
}
