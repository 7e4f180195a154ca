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
 * The upsert of a rollup, as a CTE to append to a `WITH` that defines `src` (bucket, app_id,
 * channel, plugin, template, category, metric, reason, n). Rows are grouped by `src` before the
 * upsert so a statement touches each counter row once, in key order (two concurrent statements
 * cannot deadlock). Only `delivery_stats` (every dimension combination) is written with the
 * deliveries: one counter row per batch and metric, not twelve. `delivery_stats_dim` (the same
 * counts with at most two dimensions fixed, which keeps GET /v1/stats fast on months of data) is
 * derived from it once an hour has closed (`rollUpDimensions`), and read live from
 * `delivery_stats` for the hours since (`liveDimensionSql`). Each counter row updated is two WAL
 * records (a lock and the update); the twelve per batch were about 90 bytes per delivery.
 */
export const STATS_UPSERT_CTES = `
     stats_full AS (
       INSERT INTO delivery_stats AS s (bucket, app_id, channel, plugin, template, category, metric, reason, n)
       SELECT * FROM src ORDER BY app_id, bucket, channel, plugin, template, category, metric, reason
       ON CONFLICT (app_id, bucket, channel, plugin, template, category, metric, reason) DO UPDATE SET n = s.n + EXCLUDED.n
     )`;

/**
 * The dimension rows of `delivery_stats` rows `src` (alias) from hour `from` up to hour `to`:
 * (bucket, app_id, dim, metric, reason, n). What `delivery_stats_dim` holds for hours rolled up.
 */
export const dimensionRowsSql = (where: string) => `
       SELECT src.bucket, src.app_id, x.dim, src.metric, src.reason, sum(src.n) AS n
         FROM delivery_stats src CROSS JOIN LATERAL ${DIMENSIONS_SQL} AS x(dim)
        WHERE ${where}
        GROUP BY 1, 2, 3, 4, 5`;

/**
 * Hours before this are read from `delivery_stats_dim`, later ones summed from `delivery_stats`:
 * the mark less an hour, since the last hour rolled up is rolled up again by the next pass (a
 * batch that committed after the hour had closed) and is read live until then.
 */
export const DIMENSION_ROWS_FINAL_BEFORE_SQL = `(SELECT until - interval '1 hour' FROM stats_dims_rolled_up)`;

/**
 * Writes `delivery_stats_dim` for the hours in [from, to) from `delivery_stats`, exact (a re-run
 * rewrites nothing that did not change), and moves the mark to `to` if it was before. One
 * transaction, so a reader sees either the old mark with the live rows or the new one with these.
 */
export async function rollUpDimensions(tx: Queryable, from: Date, to: Date): Promise<void> {
  await preparedQuery(
    tx,
    `WITH rows AS (${dimensionRowsSql('src.bucket >= $1 AND src.bucket < $2')} ORDER BY 2, 3, 1, 4, 5),
     upsert AS (
       INSERT INTO delivery_stats_dim AS s (bucket, app_id, dim, metric, reason, n) SELECT * FROM rows
       ON CONFLICT (app_id, dim, bucket, metric, reason) DO UPDATE SET n = EXCLUDED.n WHERE s.n IS DISTINCT FROM EXCLUDED.n
     )
     UPDATE stats_dims_rolled_up SET until = $2 WHERE until < $2`,
    [from, to],
  );
}

/** The mark: `delivery_stats_dim` holds every hour before it. */
export async function dimensionsRolledUpUntil(q: Queryable): Promise<Date> {
  const [row] = await preparedQuery<{ until: Date }>(q, `SELECT until FROM stats_dims_rolled_up`, []);
  if (!row) throw new Error('stats_dims_rolled_up has no row (migration 1765200000012 not run?)');
  return row.until;
}

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
