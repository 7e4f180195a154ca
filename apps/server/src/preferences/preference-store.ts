import type { Queryable } from '../database/prepared';
import type { OptOut } from './opt-out';
import type { QuietHours } from './quiet-hours';

/** The other writes beside `optOut`: opt-ins, forgetting a rule, quiet hours. All idempotent. */

/** The user turns `channel` (for `category`) on: the mirror of `optOut`, same row, same key. */
export async function optIn(db: Queryable, o: OptOut): Promise<void> {
  await db.query(
    `INSERT INTO user_preferences (app_id, user_id, channel, category, enabled, source)
     VALUES ($1, $2, $3, $4, true, $5)
     ON CONFLICT (user_id, channel, category) DO UPDATE SET enabled = true, source = EXCLUDED.source, updated_at = now()`,
    [o.appId, o.userId, o.channel, o.category, o.source],
  );
}

/** Forgets a rule: the next more general rule, or the app's default, applies again. */
export async function clearPreference(
  db: Queryable,
  userId: string,
  channel: string,
  category: string,
): Promise<void> {
  await db.query('DELETE FROM user_preferences WHERE user_id = $1 AND channel = $2 AND category = $3', [
    userId,
    channel,
    category,
  ]);
}

/** Sets (or with null, removes) the user's quiet window. */
export async function setQuietHours(
  db: Queryable,
  appId: string,
  userId: string,
  qh: QuietHours | null,
): Promise<void> {
  if (qh === null) {
    await db.query('DELETE FROM user_quiet_hours WHERE user_id = $1', [userId]);
    return;
  }
  await db.query(
    `INSERT INTO user_quiet_hours (user_id, app_id, start_time, end_time, categories) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id) DO UPDATE SET start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
       categories = EXCLUDED.categories, updated_at = now()`,
    [userId, appId, qh.start, qh.end, qh.categories],
  );
}
