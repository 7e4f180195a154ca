import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import { allowedSql, sources } from '../transitions';
import { unsettledCtes } from './unsettled';

/** The statuses a cancel still stops (not yet sent, nor over). */
export const CANCELABLE = sources('cancel');

/** Whether a cancel would still stop any delivery of the notification (a read). */
export async function hasCancelable(q: Queryable, notificationId: string): Promise<boolean> {
  const found = await rows(
    q,
    `SELECT 1 FROM deliveries WHERE notification_id = $1 AND ${allowedSql('cancel', 'status', `'canceled'`)} LIMIT 1`,
    [notificationId],
  );
  return found.length > 0;
}

/**
 * One page of the deliveries a cancel would still stop, in id order after `after` (keyset on the
 * (notification_id, id) index: each page reads its own rows only, so a million deliveries cancel
 * in a thousand small reads, not one that holds them all). A read.
 */
export function cancelablePage(
  q: Queryable,
  notificationId: string,
  after: string | null,
  limit: number,
): Promise<{ id: string; plugin: string | null }[]> {
  return rows<{ id: string; plugin: string | null }>(
    q,
    `SELECT id, plugin FROM deliveries
      WHERE notification_id = $1 AND id > coalesce($2::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
        AND ${allowedSql('cancel', 'status', `'canceled'`)}
      ORDER BY id LIMIT $3`,
    [notificationId, after, limit],
  );
}

/**
 * Cancels those of `ids` (deliveries of the notification) that have still not started, with a
 * history row each; returns those canceled. The status guard is checked again here: a delivery
 * that a worker finished since its page was read is left as it is.
 */
export function cancelUnsent(
  q: Queryable,
  notificationId: string,
  ids: string[],
): Promise<{ id: string; channel: string; plugin: string | null }[]> {
  return rows(
    q,
    `WITH c AS (
       UPDATE deliveries SET status = 'canceled', reason = 'canceled', job = NULL, updated_at = now()
        WHERE notification_id = $1 AND id = ANY($2::uuid[]) AND ${allowedSql('cancel', 'status', `'canceled'`)}
       RETURNING id, channel, plugin, app_id, NULL::text AS from_status, status AS to_status),${unsettledCtes('c')},
     e AS (INSERT INTO delivery_events (delivery_id, status, detail)
           SELECT id, 'canceled', jsonb_build_object('reason', 'canceled', 'by', 'request') FROM c)
     SELECT id, channel, plugin FROM c`,
    [notificationId, ids],
  );
}

/**
 * One page of a notification's canceled deliveries that have a plugin (so a job to remove), in id
 * order after `after`: the cancel removes their jobs page by page after its answer. A read.
 */
export function canceledPage(
  q: Queryable,
  notificationId: string,
  after: string | null,
  limit: number,
): Promise<{ id: string; plugin: string }[]> {
  return rows<{ id: string; plugin: string }>(
    q,
    `SELECT id, plugin FROM deliveries
      WHERE notification_id = $1 AND id > coalesce($2::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
        AND status = 'canceled' AND plugin IS NOT NULL
      ORDER BY id LIMIT $3`,
    [notificationId, after, limit],
  );
}

/** What deciding a cancel needs to know of a notification. */
export interface CancelTarget {
  status: string;
  /** Its sendAt is still ahead. */
  dueLater: boolean;
  /** When its last job is set to run (sendAt, or a delivery held by quiet hours or a cap). */
  lastDue: Date | null;
}

/** The app's notification as a cancel sees it; undefined if it has none by that id (a read). */
export async function cancelTarget(
  q: Queryable,
  appId: string,
  notificationId: string,
): Promise<CancelTarget | undefined> {
  const [n] = await rows<CancelTarget>(
    q,
    `SELECT status, coalesce(send_at > now(), false) AS "dueLater",
            GREATEST(send_at, (SELECT max(held_until) FROM deliveries WHERE notification_id = $1)) AS "lastDue"
       FROM notifications WHERE id = $1 AND app_id = $2`,
    [notificationId, appId],
  );
  return n;
}

/**
 * Marks the notification canceled and locks its row; false if it already was. Run first in the
 * cancel's transaction: two concurrent cancels take turns, the second finds it canceled.
 */
export async function markNotificationCanceled(tx: Queryable, notificationId: string): Promise<boolean> {
  const won = await rows(
    tx,
    `UPDATE notifications SET status = 'canceled', canceled_at = now() WHERE id = $1 AND status <> 'canceled' RETURNING id`,
    [notificationId],
  );
  return won.length > 0;
}
