import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import { appOf, unsettledSql } from './unsettled';

/** The catch-up migration 1765200000014 left to do (deliveries/upgrade-catch-up.ts). */
export const HOT_STATUS_CATCH_UP = 'unsettled-and-provider-ids';

export interface CatchUpState {
  since: Date;
  walkStarted: Date | null;
  cursor: string | null;
  /** Walks finished. */
  walks: number;
}

/** The catch-up's state, locked for this transaction; undefined once done (or never needed). */
export async function pendingCatchUp(tx: Queryable, name: string): Promise<CatchUpState | undefined> {
  const [row] = await rows<CatchUpState>(
    tx,
    `SELECT since, walk_started AS "walkStarted", cursor::text AS cursor, walks
       FROM clarion_catch_ups WHERE name = $1 AND done_at IS NULL FOR UPDATE`,
    [name],
  );
  return row;
}

export async function saveCatchUp(
  tx: Queryable,
  name: string,
  state: { walkStarted: Date | null; cursor: string | null; walks: number; done: boolean },
): Promise<void> {
  await tx.query(
    `UPDATE clarion_catch_ups SET walk_started = $2, cursor = $3::uuid, walks = $4, done_at = CASE WHEN $5 THEN now() END
      WHERE name = $1`,
    [name, state.walkStarted, state.cursor, state.walks, state.done],
  );
}

/**
 * One page of deliveries by id in (after, before): their unsettled rows and provider ids made
 * what the current code would have written. The page's rows are locked (`FOR UPDATE`, id order
 * like every writer) so no status moves under it; a writer waiting on them then applies its move
 * to what this wrote. Answers the page's last id (null: nothing left) and what it changed.
 */
export async function catchUpPage(
  tx: Queryable,
  after: string,
  before: string,
  limit: number,
): Promise<{ last: string | null; fixed: number; providerIds: number }> {
  const [row] = await rows<{ last: string | null; fixed: number; providerIds: number }>(
    tx,
    `WITH page AS (
       SELECT id, app_id, status, provider_message_id FROM deliveries
        WHERE id > $1::uuid AND id < $2::uuid ORDER BY id LIMIT $3 FOR UPDATE),
     fix AS (
       INSERT INTO unsettled_deliveries AS x (id, app_id, status)
       SELECT id, ${appOf('status')}, status FROM page WHERE ${unsettledSql('status')}
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, app_id = EXCLUDED.app_id
        WHERE x.status IS DISTINCT FROM EXCLUDED.status OR x.app_id IS DISTINCT FROM EXCLUDED.app_id
       RETURNING 1),
     gone AS (
       DELETE FROM unsettled_deliveries x USING page p WHERE x.id = p.id AND NOT ${unsettledSql('p.status')}
       RETURNING 1),
     ids AS (
       INSERT INTO provider_messages (delivery_id, provider_message_id)
       SELECT p.id, p.provider_message_id FROM page p
        WHERE p.provider_message_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM provider_messages m
                           WHERE m.delivery_id = p.id AND m.provider_message_id = p.provider_message_id)
       RETURNING 1)
     SELECT (SELECT id::text FROM page ORDER BY id DESC LIMIT 1) AS last,
            ((SELECT count(*) FROM fix) + (SELECT count(*) FROM gone))::int AS fixed,
            (SELECT count(*) FROM ids)::int AS "providerIds"`,
    [after, before, limit],
  );
  return row ?? { last: null, fixed: 0, providerIds: 0 };
}
