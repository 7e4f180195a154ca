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

const LIST = UNSETTLED.map((s) => `'${s}'`).join(', ');
const REDRIVABLE = sources('redrive')
  .map((s) => `'${s}'`)
  .join(', ');

/** The app, kept only where the redrive list asks for it by app (16 bytes less on every queued row). */
export const appOf = (status: string): string => `CASE WHEN ${status} IN (${REDRIVABLE}) THEN app_id END`;

/** SQL: whether status expression `s` is one of UNSETTLED. */
export const unsettledSql = (s: string): string => `${s} IN (${LIST})`;

/**
 * CTEs that keep `unsettled_deliveries` in step with a statement's status moves (migration
 * 1765200000014): one row per delivery whose status is in UNSETTLED, with that status (and its
 * app when it is redrivable), so the
 * relay and the redrive list read a small table instead of partial indexes on `deliveries.status`.
 * No index of `deliveries` names a column a status move changes, so those updates are HOT
 * (no new entry in any index, the new row version on the same page).
 *
 * `moved` is a CTE with columns (id, app_id, from_status, to_status), or with `inserted` one of
 * the rows a statement inserts, (id, app_id, status): those get a plain INSERT (no
 * speculative-insertion record). A move within UNSETTLED upserts (a retry's queued → queued writes nothing); a move out of it
 * deletes. Should two writers race on one delivery so that a row is left behind (a DELETE reads
 * its statement's snapshot), it is only ever one too many: readers check the delivery's own status,
 * and retention deletes a day's rows with its partition (deliveries/partitions.ts).
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
  ),
  unsettled_out AS (
    DELETE FROM unsettled_deliveries u USING ${moved} m
     WHERE u.id = m.id AND ${unsettledSql('m.from_status')} AND NOT ${unsettledSql('m.to_status')}
  )`;
}

/**
 * A subquery for the delivery whose id is `key`, for `CROSS JOIN LATERAL` from
 * `unsettled_deliveries`: `OFFSET 0` keeps PostgreSQL from flattening it into a join it may then
 * plan as a scan of every delivery partition (it did, in deliveries/partition-plans.test.ts). So
 * readers walk the small table by its index, oldest id first, and read each delivery by its key.
 */
export const BY_KEY = (key: string): string => `SELECT * FROM deliveries WHERE id = ${key} OFFSET 0`;
