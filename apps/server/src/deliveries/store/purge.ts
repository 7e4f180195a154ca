import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';

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
