import type { DeliveryStatus } from '../delivery-status';
import { sources } from '../transitions';

/**
 * The statuses Clarion may still act on by itself or for the app: `pending` and `queued` (the
 * relay re-adds their jobs when Redis lost them) and the redrivable ones, `failed` and `expired`.
 */
export const UNSETTLED = [
  'pending',
  'queued',
  ...sources('redrive'),
] as const satisfies readonly DeliveryStatus[];

const quoted = (list: readonly string[]) => list.map((s) => `'${s}'`).join(', ');

/** SQL: whether status expression `s` is one of UNSETTLED. */
export const unsettledSql = (s: string): string => `${s} IN (${quoted(UNSETTLED)})`;

/** SQL: whether status expression `s` is redrivable (failed, expired: the dead-delivery list). */
export const redrivableSql = (s: string): string => `${s} IN (${quoted(sources('redrive'))})`;

/** The app, kept only where the redrive list asks for it by app (16 bytes less on every queued row). */
const appOf = (status: string): string => `CASE WHEN ${redrivableSql(status)} THEN app_id END`;

/**
 * SQL: id expression `id` (UUIDv7, its creation time in it) was made before the grace period
 * `graceMs` (an SQL expression, milliseconds as text): the relay's walks stop there, since
 * younger deliveries are in flight by definition and, in a campaign, arrive at the walk's end as
 * fast as it reads.
 */
export const madeBeforeGraceSql = (id: string, graceMs: string): string =>
  `${id} < clarion_uuidv7_floor(now() - (${graceMs} || ' milliseconds')::interval)`;

/**
 * CTEs that keep `unsettled_deliveries` in step with a statement's status moves (migration
 * 1765200000014): one row per delivery whose status is in UNSETTLED, with that status (and its
 * app when it is redrivable), so the relay and the redrive list read a small table instead of
 * partial indexes on `deliveries.status`. No index of `deliveries` names a column a status move
 * changes, so those updates are HOT (no new entry in any index, the new row version on the same page).
 *
 * `moved` is a CTE with columns (id, app_id, from_status, to_status), or with `inserted` one of
 * the rows a statement inserts, (id, app_id, status): those get a plain INSERT (no
 * speculative-insertion record). A move into or within UNSETTLED upserts (a row already right is
 * not rewritten, so a retry's queued → queued writes nothing); a move out of it deletes. A null
 * `from_status` means the statement does not know it (the row decides): the delete then probes
 * whatever the move. Should two writers race on one delivery so that a row is left behind (a
 * DELETE reads its statement's snapshot), it is only ever one too many: readers check the
 * delivery's own status, and retention deletes a day's rows with its partition
 * (deliveries/partitions.ts). Both CTEs return a row per row written, for callers that count.
 */
export function unsettledCtes(moved: string, opts: { inserted?: boolean } = {}): string {
  if (opts.inserted)
    return `
  unsettled_in AS (
    INSERT INTO unsettled_deliveries (id, app_id, status)
    SELECT id, ${appOf('status')}, status FROM ${moved} WHERE ${unsettledSql('status')}
  )`;
  return `
  unsettled_in AS (
    INSERT INTO unsettled_deliveries AS u (id, app_id, status)
    SELECT id, ${appOf('to_status')}, to_status FROM ${moved}
     WHERE ${unsettledSql('to_status')} AND to_status IS DISTINCT FROM from_status
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, app_id = EXCLUDED.app_id
     WHERE u.status IS DISTINCT FROM EXCLUDED.status OR u.app_id IS DISTINCT FROM EXCLUDED.app_id
    RETURNING 1
  ),
  unsettled_out AS (
    DELETE FROM unsettled_deliveries u USING ${moved} m
     WHERE u.id = m.id AND (m.from_status IS NULL OR ${unsettledSql('m.from_status')})
       AND NOT ${unsettledSql('m.to_status')}
    RETURNING 1
  )`;
}

/**
 * A subquery for the delivery whose id is `key`, for `CROSS JOIN LATERAL` from
 * `unsettled_deliveries`: `OFFSET 0` keeps PostgreSQL from flattening it into a join it may then
 * plan as a scan of every delivery partition (it did, in deliveries/partition-plans.test.ts). So
 * readers walk the small table by its index, oldest id first, and read each delivery by its key.
 */
export const BY_KEY = (key: string): string => `SELECT * FROM deliveries WHERE id = ${key} OFFSET 0`;
