import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import { allowedSql } from '../transitions';
import { unsettledCtes } from './unsettled';

/** A delivery handed from one provider to the next of its chain. */
export interface Reroute {
  id: string;
  fromPlugin: string;
  toPlugin: string;
  /** The next provider's job, already JSON. */
  jobJson: string;
  attempt: number;
  detailJson: string;
}

/**
 * Switches deliveries to their next provider: `pending` again with the next job, and a `rerouted`
 * history row. Applied only while the handing plugin still owns the delivery: a repeated
 * hand-over (a stale job re-reporting it) after the next provider took over or finished changes
 * nothing. Returns the ids moved.
 */
export async function reroute(q: Queryable, items: Reroute[]): Promise<Set<string>> {
  const moved = await rows<{ id: string }>(
    q,
    `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::int[], $5::jsonb[], $6::text[])
                  AS v(id, plugin, job, attempt, detail, from_plugin)),
          u AS (UPDATE deliveries d SET plugin = v.plugin, job = v.job, status = 'pending', updated_at = now()
                  FROM v WHERE d.id = v.id AND d.plugin = v.from_plugin AND ${allowedSql('reroute', 'd.status', `'pending'`)}
                RETURNING d.id, d.app_id, NULL::text AS from_status, d.status AS to_status),${unsettledCtes('u')},
          e AS (INSERT INTO delivery_events (delivery_id, status, attempt, detail)
                SELECT v.id, 'rerouted', v.attempt, v.detail FROM v JOIN u ON u.id = v.id)
     SELECT id FROM u`,
    [
      items.map((r) => r.id),
      items.map((r) => r.toPlugin),
      items.map((r) => r.jobJson),
      items.map((r) => r.attempt),
      items.map((r) => r.detailJson),
      items.map((r) => r.fromPlugin),
    ],
  );
  return new Set(moved.map((r) => r.id));
}
