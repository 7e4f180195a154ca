import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import { BY_KEY } from './unsettled';

/**
 * A CTE that records which delivery a provider's message id belongs to, for the provider's
 * callbacks (migration 1765200000014). `moved` is a CTE with columns (id, provider_message_id,
 * old_provider_message_id, and `plugin` when `withoutCallbacks` is given): a row is written only
 * when a statement gives a delivery a new id. The lookup is a table of its own, not an index on
 * `deliveries.provider_message_id`: an index on a column the `sent` update sets would make every
 * such update non-HOT (an entry in each index).
 *
 * `withoutCallbacks`, a `text[]` parameter: plugins known to take no callbacks (FCM, APNs, Web
 * Push, SMTP). Nothing ever looks their ids up, so their deliveries get no row: a heap row, an
 * index entry and about 300 bytes of WAL less per push (docs/benchmarks.md, session 12). The
 * delivery's own `provider_message_id` is written as before. A plugin the writing process has not
 * loaded is not in the list, and gets its rows.
 */
export const providerMessagesCte = (moved: string, withoutCallbacks?: string): string => `
  provider_ids AS (
    INSERT INTO provider_messages (delivery_id, provider_message_id)
    SELECT id, provider_message_id FROM ${moved}
     WHERE provider_message_id IS NOT NULL AND provider_message_id IS DISTINCT FROM old_provider_message_id${
       withoutCallbacks ? `\n       AND plugin <> ALL (${withoutCallbacks}::text[])` : ''
     }
  )`;

/** The deliveries of provider message ids $1, each read by its key (BY_KEY: never a scan of every partition). */
export const PROVIDER_IDS_SQL = `
  SELECT DISTINCT d.id, d.provider_message_id AS pmid
    FROM provider_messages pm CROSS JOIN LATERAL (${BY_KEY('pm.delivery_id')}) d
   WHERE pm.provider_message_id = ANY($1::text[]) AND d.provider_message_id = pm.provider_message_id`;

/**
 * The deliveries these provider message ids name (a read). The delivery's own column decides: a
 * redriven delivery forgot its old id, and a callback for the old message finds nothing.
 */
export async function deliveriesOfProviderIds(
  q: Queryable,
  providerMessageIds: string[],
): Promise<{ id: string; pmid: string }[]> {
  return rows<{ id: string; pmid: string }>(q, PROVIDER_IDS_SQL, [providerMessageIds]);
}
