import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `delivery_stats_dim` is derived from `delivery_stats` once an hour has closed, instead of being
 * written with every batch of deliveries (deliveries/stats-rollup.ts). `stats_dims_rolled_up`
 * holds the one mark: the dimension rows are complete for every hour before it. Until now they
 * were written for every hour, so the mark starts at the current hour; that hour's rows written
 * so far are replaced by its roll-up once it closes.
 */
export class StatsDimsRolledUp1765200000012 implements MigrationInterface {
  name = 'StatsDimsRolledUp1765200000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stats_dims_rolled_up (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        until timestamptz NOT NULL
      );
      INSERT INTO stats_dims_rolled_up (until) VALUES (date_trunc('hour', now()));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // The code before this writes the dimension rows itself: complete them for the hours since the mark.
    await q.query(`
      INSERT INTO delivery_stats_dim AS s (bucket, app_id, dim, metric, reason, n)
      SELECT src.bucket, src.app_id, x.dim, src.metric, src.reason, sum(src.n)
        FROM delivery_stats src
        CROSS JOIN LATERAL (VALUES (''), ('category=' || src.category), ('channel=' || src.channel),
                                   ('plugin=' || src.plugin), ('template=' || src.template),
                                   ('category=' || src.category || chr(31) || 'channel=' || src.channel),
                                   ('category=' || src.category || chr(31) || 'plugin=' || src.plugin),
                                   ('category=' || src.category || chr(31) || 'template=' || src.template),
                                   ('channel=' || src.channel || chr(31) || 'plugin=' || src.plugin),
                                   ('channel=' || src.channel || chr(31) || 'template=' || src.template),
                                   ('plugin=' || src.plugin || chr(31) || 'template=' || src.template)) AS x(dim)
       WHERE src.bucket >= (SELECT until FROM stats_dims_rolled_up)
       GROUP BY 1, 2, 3, 4, 5
      ON CONFLICT (app_id, dim, bucket, metric, reason) DO UPDATE SET n = EXCLUDED.n;
      DROP TABLE stats_dims_rolled_up;
    `);
  }
}
