import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_ADMIN_URL } from '@clarion/testkit';
import { sql } from '../testing/db';
import { DELIVERY_STATUSES } from './delivery-status';
import { metricsFor, metricsForSql } from './transitions';

const STATUSES = [...DELIVERY_STATUSES];

describe('the funnel counted in SQL and in JS (real PostgreSQL)', () => {
  test('metricsForSql gives what metricsFor gives, for every pair of statuses, with the reason on failures only', async () => {
    const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const));
    const rows = await sql<{ from_status: string; to_status: string; metric: string; reason: string | null }>(
      TEST_ADMIN_URL,
      `SELECT m.from_status, m.to_status, x.metric, x.reason
         FROM unnest($1::text[], $2::text[]) AS m(from_status, to_status)
        CROSS JOIN LATERAL ${metricsForSql('m.from_status', 'm.to_status', `'why'`)} AS x`,
      [pairs.map(([from]) => from), pairs.map(([, to]) => to)],
    );
    for (const [from, to] of pairs) {
      const got = rows.filter((r) => r.from_status === from && r.to_status === to);
      assert.deepEqual(got.map((r) => r.metric).sort(), [...metricsFor(from, to)].sort(), `${from} → ${to}`);
      for (const r of got)
        assert.equal(
          r.reason,
          r.metric === 'failed' || r.metric === 'expired' ? 'why' : null,
          `${from} → ${to}`,
        );
    }
    assert.ok(rows.length > 20, 'the pairs cross steps');
  });
});
