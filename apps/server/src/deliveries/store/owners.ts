import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';

/** The distinct (app, user) pairs these deliveries were for, skipping those of erased users (a read). */
export function deliveryOwners(
  q: Queryable,
  deliveryIds: readonly string[],
): Promise<{ appId: string; userId: string }[]> {
  return rows<{ appId: string; userId: string }>(
    q,
    `SELECT DISTINCT app_id AS "appId", user_id AS "userId" FROM deliveries
      WHERE id = ANY($1::uuid[]) AND user_id IS NOT NULL`,
    [deliveryIds],
  );
}
