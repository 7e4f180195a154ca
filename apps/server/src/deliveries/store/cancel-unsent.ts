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
