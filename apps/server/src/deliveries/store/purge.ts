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

/** One step of the inbox walk: messages looked at, deleted, and the last id looked at (the next step's `after`). */
export interface InboxPurgeStep {
  seen: number;
  deleted: number;
  last: string | null;
}

/**
 * Retention of inbox messages (owned by `inbox/`, purged here because retention runs below it):
 * looks at the next `batch` messages by primary key after `after` and below `floor`
 * (uuidv7Floor(cut)), and deletes those created before `cut`. A message's id is its delivery's
 * UUIDv7, made before the message is written, so every message created before `cut` has an id
 * below `floor` and the walk needs no index of its own. The reverse does not hold (a scheduled
 * notification's delivery id is made at request time, its message written at sendAt), so
 * `created_at` decides what goes, and the caller moves `after` past what it kept instead of reading it again.
 */
export async function purgeInboxMessages(
  q: Queryable,
  walk: { floor: string; cut: Date; after: string; batch: number },
): Promise<InboxPurgeStep> {
  const [step] = await rows<InboxPurgeStep>(
    q,
    `WITH seen AS (
       SELECT id, created_at FROM inbox_messages WHERE id > $1::uuid AND id < $2::uuid ORDER BY id LIMIT $4
     ), gone AS (
       DELETE FROM inbox_messages m USING seen WHERE m.id = seen.id AND seen.created_at < $3 RETURNING 1
     )
     SELECT (SELECT count(*) FROM seen)::int AS seen, (SELECT count(*) FROM gone)::int AS deleted,
            (SELECT id FROM seen ORDER BY id DESC LIMIT 1) AS last`,
    [walk.after, walk.floor, walk.cut, walk.batch],
  );
  return step ?? { seen: 0, deleted: 0, last: null };
}
