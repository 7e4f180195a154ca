import { preparedQuery, type Queryable } from '../database/prepared';
import { metricsFor } from './transitions';

/** One status change of one delivery, as the rollup counts it. */
export interface StatusChange {
  id: string;
  from: string;
  to: string;
  reason: string | null;
}

/** A count to add to the current hour's row: metric for a delivery (its dimensions are read from the delivery). */
export interface StatBump {
  id: string;
  metric: string;
  reason: string | null;
}

export function bumpsFor(changes: StatusChange[]): StatBump[] {
  return changes.flatMap((c) =>
    metricsFor(c.from, c.to).map((metric) => ({
      id: c.id,
      metric,
      reason: metric === 'failed' || metric === 'expired' ? c.reason : null,
    })),
  );
}

/** Stats dimensions, in the order their names sort (keys list them in this order). */
export const DIMENSIONS = ['category', 'channel', 'plugin', 'template'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Key of a row in `delivery_stats_dim`: '' for all, else `name=value` pairs (names sorted) joined by U+001F. */
export function dimensionKey(filters: Partial<Record<Dimension, string>>): string {
  return DIMENSIONS.filter((d) => filters[d] !== undefined)
    .map((d) => `${d}=${filters[d]}`)
    .join('\u001f');
}

const part = (d: Dimension) => `'${d}=' || src.${d}`;
/** Every key a delivery counts under: all, each dimension alone, each pair of dimensions (11 keys). */
export const DIMENSIONS_SQL = `(VALUES (''), ${[
  ...DIMENSIONS.map((d) => `(${part(d)})`),
  ...DIMENSIONS.flatMap((a, i) =>
    DIMENSIONS.slice(i + 1).map((b) => `(${part(a)} || chr(31) || ${part(b)})`),
  ),
].join(', ')})`;

/**
 * The upserts of a rollup, as CTEs to append to a `WITH` that defines `src` (bucket, app_id,
 * channel, plugin, template, category, metric, reason, n). Rows are grouped by `src` before the
 * upserts so a statement touches each counter row once, in key order (two concurrent statements
 * cannot deadlock). `delivery_stats` keeps every dimension combination; `delivery_stats_dim` the
 * same counts with at most two dimensions fixed, which is what keeps GET /v1/stats fast on months of data.
 */
export const STATS_UPSERT_CTES = `
     stats_full AS (
       INSERT INTO delivery_stats AS s (bucket, app_id, channel, plugin, template, category, metric, reason, n)
       SELECT * FROM src ORDER BY app_id, bucket, channel, plugin, template, category, metric, reason
       ON CONFLICT (app_id, bucket, channel, plugin, template, category, metric, reason) DO UPDATE SET n = s.n + EXCLUDED.n
     ), stats_dim AS (
       INSERT INTO delivery_stats_dim AS s (bucket, app_id, dim, metric, reason, n)
       SELECT src.bucket, src.app_id, x.dim, src.metric, src.reason, sum(src.n)
         FROM src CROSS JOIN LATERAL ${DIMENSIONS_SQL} AS x(dim)
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 2, 3, 1, 4, 5
       ON CONFLICT (app_id, dim, bucket, metric, reason) DO UPDATE SET n = s.n + EXCLUDED.n
     )`;

/**
 * Adds counts to the hourly rollups in one round trip: dimensions (channel, plugin, template,
 * category) come from the delivery and its notification.
 */
export async function bumpStats(tx: Queryable, bumps: StatBump[]): Promise<void> {
  if (bumps.length === 0) return;
  await preparedQuery(
    tx,
    `WITH src AS (
       SELECT date_trunc('hour', now()) AS bucket, d.app_id, d.channel, COALESCE(d.plugin, '') AS plugin,
              COALESCE(n.request->>'template', '') AS template, COALESCE(n.category, '') AS category,
              v.metric, COALESCE(v.reason, '') AS reason, count(*) AS n
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, metric, reason)
         JOIN deliveries d ON d.id = v.id
         LEFT JOIN notifications n ON n.id = d.notification_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
     ),${STATS_UPSERT_CTES}
     SELECT 1`,
    [bumps.map((b) => b.id), bumps.map((b) => b.metric), bumps.map((b) => b.reason)],
  );
}
