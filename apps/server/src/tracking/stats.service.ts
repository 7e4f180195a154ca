import { Injectable } from '@nestjs/common';
import { dimensionKey } from '../deliveries/stats-rollup';
import { StatsRepository } from './stats-repository';
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
  constructor(private readonly stats: StatsRepository) {}

  async query(appId: string, q: StatsQuery) {
    const filters = (['channel', 'plugin', 'template', 'category'] as const).filter(
      (k) => q[k] !== undefined,
    );
    // Up to two filters: the keyed rollup (a few rows per hour and key). Three or more: every combination.
    const range = { from: floor(q.from, 'hour'), to: q.to, bucket: q.bucket };
    const rows =
      filters.length <= 2
        ? await this.stats.byDimension(appId, range, dimensionKey(q))
        : await this.stats.byFilters(appId, range, q);
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
