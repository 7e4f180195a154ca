import type { Queryable } from '../database/prepared';
export interface OptOut {
  appId: string;
  /** Internal user id (users.id). */
  userId: string;
  /** A channel, or `*` for every channel. */
  channel: string;
  /** A category, or `*` for every category. */
  category: string;
  /** Who said so: `api`, `unsubscribe_link`, `sms_stop`, `spam_report`, … (kept for support). */
  source: string;
}

/**
 * Records that a user does not want `channel` (for `category`): the one write path shared by
 * the preferences API, the e-mail unsubscribe link, SMS STOP replies and provider callbacks.
 * Idempotent: repeating it changes nothing but the timestamp.
 */
export async function optOut(db: Queryable, o: OptOut): Promise<void> {
  await db.query(
    `INSERT INTO user_preferences (app_id, user_id, channel, category, enabled, source)
     VALUES ($1, $2, $3, $4, false, $5)
     ON CONFLICT (user_id, channel, category) DO UPDATE SET enabled = false, source = EXCLUDED.source, updated_at = now()`,
    [o.appId, o.userId, o.channel, o.category, o.source],
  );
}

/**
 * Takes back the opt-outs that `source` recorded for this user and channel (an SMS START after a
 * STOP): opt-outs the user or the app set another way stay.
 */
export async function withdrawOptOut(
  db: Queryable,
  o: { userId: string; channel: string; source: string },
): Promise<void> {
  await db.query(
    `DELETE FROM user_preferences WHERE user_id = $1 AND channel = $2 AND source = $3 AND enabled = false`,
    [o.userId, o.channel, o.source],
  );
}
