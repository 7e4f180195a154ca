import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rows } from '../database/rows';
import { DIMENSION_ROWS_FINAL_BEFORE_SQL, dimensionRowsSql } from '../deliveries/stats-rollup';

/** One (bucket, metric, reason) sum; `t` in epoch milliseconds. */
export interface StatsRow {
  t: number;
  metric: string;
  reason: string;
  n: number;
}

export interface StatsRange {
  from: Date;
  to: Date;
  bucket: 'hour' | 'day';
}

export interface StatsFilters {
  channel?: string | undefined;
  plugin?: string | undefined;
  template?: string | undefined;
  category?: string | undefined;
}

// Epoch milliseconds and float8 counts parse as plain numbers (no Date or bigint string per row).
const BUCKET = `(extract(epoch FROM date_trunc($4, bucket, 'UTC')) * 1000)::float8 AS t, metric, reason, sum(n)::float8 AS n`;

/** Reads of the hourly stats rollup (never the deliveries). */
@Injectable()
export class StatsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * From the keyed rollup: one dimension key (up to two filters), a few rows per hour and key.
   * The hours not rolled up for good yet (the last two or three) are summed from `delivery_stats`
   * instead, the same counts (deliveries/stats-rollup.ts).
   */
  async byDimension(appId: string, r: StatsRange, dim: string): Promise<StatsRow[]> {
    return rows<StatsRow>(
      this.db,
      `WITH mark AS (SELECT ${DIMENSION_ROWS_FINAL_BEFORE_SQL} AS until)
       SELECT ${BUCKET}
         FROM (SELECT bucket, metric, reason, n FROM delivery_stats_dim
                WHERE app_id = $1 AND dim = $5 AND bucket >= $2 AND bucket < LEAST($3, (SELECT until FROM mark))
               UNION ALL
               SELECT bucket, metric, reason, n FROM (${dimensionRowsSql(
                 'src.app_id = $1 AND x.dim = $5 AND src.bucket >= GREATEST($2, (SELECT until FROM mark)) AND src.bucket < $3',
               )}) live) counts
        GROUP BY 1, 2, 3`,
      [appId, r.from, r.to, r.bucket, dim],
    );
  }

  /** From every combination: any mix of filters. */
  async byFilters(appId: string, r: StatsRange, f: StatsFilters): Promise<StatsRow[]> {
    return rows<StatsRow>(
      this.db,
      `SELECT ${BUCKET}
         FROM delivery_stats
        WHERE app_id = $1 AND bucket >= $2 AND bucket < $3
          AND ($5::text IS NULL OR channel = $5) AND ($6::text IS NULL OR plugin = $6)
          AND ($7::text IS NULL OR template = $7) AND ($8::text IS NULL OR category = $8)
        GROUP BY 1, 2, 3`,
      [
        appId,
        r.from,
        r.to,
        r.bucket,
        f.channel ?? null,
        f.plugin ?? null,
        f.template ?? null,
        f.category ?? null,
      ],
    );
  }
}
