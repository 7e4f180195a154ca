import { metricsFor } from './lifecycle';

export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

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
    metricsFor(c.from, c.to).map((metric) => ({ id: c.id, metric, reason: metric === 'failed' || metric === 'expired' ? c.reason : null })),
  );
}

/**
 * Adds counts to the hourly rollup in one statement: dimensions (channel, plugin, template,
 * category) come from the delivery and its notification, rows are grouped before the upsert so
 * a batch touches each counter row once, in key order (two concurrent batches cannot deadlock).
 */
export async function bumpStats(tx: Queryable, bumps: StatBump[]): Promise<void> {
  if (bumps.length === 0) return;
  await tx.query(
    `INSERT INTO delivery_stats AS s (bucket, app_id, channel, plugin, template, category, metric, reason, n)
     SELECT date_trunc('hour', now()), d.app_id, d.channel, COALESCE(d.plugin, ''), COALESCE(n.request->>'template', ''),
            COALESCE(n.category, ''), v.metric, COALESCE(v.reason, ''), count(*)
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, metric, reason)
       JOIN deliveries d ON d.id = v.id
       LEFT JOIN notifications n ON n.id = d.notification_id
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
      ORDER BY 2, 3, 4, 5, 6, 7, 8
     ON CONFLICT (app_id, bucket, channel, plugin, template, category, metric, reason) DO UPDATE SET n = s.n + EXCLUDED.n`,
    [bumps.map((b) => b.id), bumps.map((b) => b.metric), bumps.map((b) => b.reason)],
  );
}
