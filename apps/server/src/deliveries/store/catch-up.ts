import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import { unsettledCtes } from './unsettled';

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
     moved AS (SELECT id, app_id, NULL::text AS from_status, status AS to_status FROM page),${unsettledCtes('moved')},
     ids AS (
       INSERT INTO provider_messages (delivery_id, provider_message_id)
       SELECT p.id, p.provider_message_id FROM page p
        WHERE p.provider_message_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM provider_messages m
                           WHERE m.delivery_id = p.id AND m.provider_message_id = p.provider_message_id)
       RETURNING 1)
     SELECT (SELECT id::text FROM page ORDER BY id DESC LIMIT 1) AS last,
            ((SELECT count(*) FROM unsettled_in) + (SELECT count(*) FROM unsettled_out))::int AS fixed,
            (SELECT count(*) FROM ids)::int AS "providerIds"`,
    [after, before, limit],
  );
  return row ?? { last: null, fixed: 0, providerIds: 0 };
}
