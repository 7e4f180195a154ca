import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dimensionKey } from '../deliveries/stats-rollup';
import { addRow, emptyCounts, type StatsCounts, withRates } from './stats-view';

export interface StatsQuery {
  from: Date;
  to: Date;
  bucket: 'hour' | 'day';
  channel?: string | undefined;
  plugin?: string | undefined;
  template?: string | undefined;
  category?: string | undefined;
}

const STEP_MS = { hour: 3_600_000, day: 86_400_000 };

/** Reads the hourly rollup (never the deliveries): a month of hours is a few thousand rows per dimension mix. */
@Injectable()
export class StatsService {
  constructor(private readonly db: DataSource) {}

  async query(appId: string, q: StatsQuery) {
    const filters = (['channel', 'plugin', 'template', 'category'] as const).filter(
      (k) => q[k] !== undefined,
    );
    // Up to two filters: the keyed rollup (a few rows per hour and key). Three or more: every combination.
    // Epoch milliseconds and float8 counts parse as plain numbers (no Date or bigint string per row).
    const rows: { t: number; metric: string; reason: string; n: number }[] =
      filters.length <= 2
        ? await this.db.query(
            `SELECT (extract(epoch FROM date_trunc($4, bucket, 'UTC')) * 1000)::float8 AS t, metric, reason, sum(n)::float8 AS n
               FROM delivery_stats_dim
              WHERE app_id = $1 AND dim = $5 AND bucket >= $2 AND bucket < $3
              GROUP BY 1, 2, 3`,
            [appId, floor(q.from, 'hour'), q.to, q.bucket, dimensionKey(q)],
          )
        : await this.db.query(
            `SELECT (extract(epoch FROM date_trunc($4, bucket, 'UTC')) * 1000)::float8 AS t, metric, reason, sum(n)::float8 AS n
               FROM delivery_stats
              WHERE app_id = $1 AND bucket >= $2 AND bucket < $3
                AND ($5::text IS NULL OR channel = $5) AND ($6::text IS NULL OR plugin = $6)
                AND ($7::text IS NULL OR template = $7) AND ($8::text IS NULL OR category = $8)
              GROUP BY 1, 2, 3`,
            [
              appId,
              floor(q.from, 'hour'),
              q.to,
              q.bucket,
              q.channel ?? null,
              q.plugin ?? null,
              q.template ?? null,
              q.category ?? null,
            ],
          );
    const totals = emptyCounts();
    const buckets = new Map<number, StatsCounts>();
    for (let t = floor(q.from, q.bucket).getTime(); t < q.to.getTime(); t += STEP_MS[q.bucket])
      buckets.set(t, emptyCounts());
    for (const r of rows) {
      const row = { metric: r.metric, reason: r.reason, n: Number(r.n) };
      addRow(totals, row);
      const t = Number(r.t);
      const b = buckets.get(t) ?? emptyCounts();
      addRow(b, row);
      buckets.set(t, b);
    }
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      bucket: q.bucket,
      filters: {
        channel: q.channel ?? null,
        plugin: q.plugin ?? null,
        template: q.template ?? null,
        category: q.category ?? null,
      },
      totals: withRates(totals),
      buckets: [...buckets.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([t, c]) => ({ start: new Date(t).toISOString(), ...withRates(c) })),
    };
  }
}

/** Start of the UTC hour or day containing `d`. */
export function floor(d: Date, unit: 'hour' | 'day'): Date {
  const step = STEP_MS[unit];
  return new Date(Math.floor(d.getTime() / step) * step);
}
