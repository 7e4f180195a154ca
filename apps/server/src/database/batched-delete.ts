import type { DataSource } from 'typeorm';
import { rows as queryRows } from './rows';

/** At most this many statements per pass: the rest waits for the next pass. */
const MAX_BATCHES = 100;

/**
 * Deletes the rows of `table` matching `where`, `batch` rows per statement, so no statement holds
 * many row locks or runs long; stops at the first batch that is not full. SKIP LOCKED: a row being
 * taken over by a request right now is left for the next pass instead of making either side wait,
 * and several processes purging at once is harmless. `where` may use `$2`…; `$1` is the batch size.
 * Returns the rows deleted.
 */
export async function deleteInBatches(
  db: DataSource,
  purge: { table: string; where: string; params?: unknown[]; batch: number },
): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const deleted = await queryRows(
      db,
      `DELETE FROM ${purge.table} WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM ${purge.table} WHERE ${purge.where} LIMIT $1 FOR UPDATE SKIP LOCKED))
       RETURNING 1`,
      [purge.batch, ...(purge.params ?? [])],
    );
    total += deleted.length;
    if (deleted.length < purge.batch) break;
  }
  return total;
}
