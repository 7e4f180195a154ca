import { preparedQuery, type Queryable } from '../../database/prepared';
import { allowedSql } from '../transitions';
import { unsettledCtes } from './unsettled';

/**
 * Marks deliveries whose jobs are on their queues `queued`, with a history row each. A delivery
 * whose worker already recorded an outcome has moved on and is left alone.
 */
export async function markQueued(q: Queryable, deliveryIds: string[]): Promise<void> {
  await preparedQuery(
    q,
    `WITH u AS (UPDATE deliveries SET status = 'queued', updated_at = now()
                 WHERE id = ANY($1::uuid[]) AND ${allowedSql('enqueue', 'status', `'queued'`)}
                 RETURNING id, app_id, NULL::text AS from_status, status AS to_status),${unsettledCtes('u')}
     INSERT INTO delivery_events (delivery_id, status) SELECT id, 'queued' FROM u`,
    [deliveryIds],
  );
}
