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

/**
 * Retention of notifications: deletes up to `batch` of those with ids below `floor` (UUIDv7, so
 * older than its time), oldest first, keeping scheduled ones and those with an escalation step
 * still waiting (a step may be due up to 7 days after a late sendAt).
 */
export async function purgeNotifications(q: Queryable, floor: string, batch: number): Promise<number> {
  const deleted = await rows(
    q,
    `DELETE FROM notifications WHERE id IN (
       SELECT id FROM notifications n WHERE id < $1::uuid AND status <> 'scheduled'
          AND NOT EXISTS (SELECT 1 FROM notification_steps s WHERE s.notification_id = n.id AND s.status = 'waiting')
        ORDER BY id LIMIT $2) RETURNING id`,
    [floor, batch],
  );
  return deleted.length;
}

/** Retention of eventId claims: deletes up to `batch` made before `cut`, oldest first. */
export async function purgeEventIds(q: Queryable, cut: Date, batch: number): Promise<number> {
  const deleted = await rows(
    q,
    `DELETE FROM event_ids WHERE (app_id, event_id) IN
       (SELECT app_id, event_id FROM event_ids WHERE created_at < $1 ORDER BY created_at LIMIT $2) RETURNING 1`,
    [cut, batch],
  );
  return deleted.length;
}
