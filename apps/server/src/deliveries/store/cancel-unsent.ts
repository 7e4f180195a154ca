import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import { allowedSql, sources } from '../transitions';

/** The statuses a cancel still stops (not yet sent, nor over). */
export const CANCELABLE = sources('cancel');

/** Deliveries of a notification a cancel would still stop (a read). */
export function cancelableDeliveries(
  q: Queryable,
  notificationId: string,
): Promise<{ id: string; plugin: string | null }[]> {
  return rows<{ id: string; plugin: string | null }>(
    q,
    `SELECT id, plugin FROM deliveries WHERE notification_id = $1 AND ${allowedSql('cancel', 'status', `'canceled'`)}`,
    [notificationId],
  );
}

/**
 * Cancels a notification's deliveries that have not started (all but `inFlight`, which finish
 * their attempt), with a history row each; returns those canceled. Run in the caller's
 * transaction, after the notification row is locked.
 */
export function cancelUnsent(
  tx: Queryable,
  notificationId: string,
  inFlight: string[],
): Promise<{ id: string; channel: string; plugin: string | null }[]> {
  return rows(
    tx,
    `WITH c AS (
       UPDATE deliveries SET status = 'canceled', reason = 'canceled', job = NULL, updated_at = now()
        WHERE notification_id = $1 AND ${allowedSql('cancel', 'status', `'canceled'`)} AND NOT (id = ANY($2::uuid[]))
       RETURNING id, channel, plugin),
     e AS (INSERT INTO delivery_events (delivery_id, status, detail)
           SELECT id, 'canceled', jsonb_build_object('reason', 'canceled', 'by', 'request') FROM c)
     SELECT id, channel, plugin FROM c`,
    [notificationId, inFlight],
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
