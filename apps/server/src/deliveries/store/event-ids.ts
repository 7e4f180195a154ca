import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';

/** A notification's claim on its app's eventId, for de-duplication. */
export interface EventIdClaim {
  appId: string;
  eventId: string;
  notificationId: string;
  bodyHash: string;
}

/**
 * Claims event ids, one statement for the batch; returns the notification ids whose claim won.
 * A claim older than the dedup window no longer counts: the new notification takes it over.
 * Each (app, eventId) at most once per call (ON CONFLICT DO UPDATE may not touch a row twice).
 */
export async function claimEventIds(
  tx: Queryable,
  claims: readonly EventIdClaim[],
  windowHours: number,
): Promise<Set<string>> {
  const won = await rows<{ notification_id: string }>(
    tx,
    `INSERT INTO event_ids (app_id, event_id, notification_id, body_hash)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[])
     ON CONFLICT (app_id, event_id) DO UPDATE
        SET notification_id = EXCLUDED.notification_id, body_hash = EXCLUDED.body_hash, created_at = now()
      WHERE event_ids.created_at < now() - $5::float8 * interval '1 hour'
     RETURNING notification_id`,
    [
      claims.map((c) => c.appId),
      claims.map((c) => c.eventId),
      claims.map((c) => c.notificationId),
      claims.map((c) => c.bodyHash),
      windowHours,
    ],
  );
  return new Set(won.map((r) => r.notification_id));
}

/** The stored claims of these (app, eventId) pairs (a read, one statement). */
export function findEventIds(
  q: Queryable,
  keys: readonly { appId: string; eventId: string }[],
): Promise<EventIdClaim[]> {
  return rows<EventIdClaim>(
    q,
    `SELECT app_id AS "appId", event_id AS "eventId", notification_id AS "notificationId", body_hash AS "bodyHash"
       FROM event_ids WHERE (app_id, event_id) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
    [keys.map((k) => k.appId), keys.map((k) => k.eventId)],
  );
}
