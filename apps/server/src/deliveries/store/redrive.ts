import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import type { InitialStatus } from '../delivery-status';
import { allowedSql } from '../transitions';
import { unsettledCtes } from './unsettled';

/** A failed or expired delivery planned again. */
export interface Redrive {
  id: string;
  status: InitialStatus;
  reason: string | null;
  plugin: string | null;
  jobJson: string | null;
  heldUntil: string | null;
  linksJson: string | null;
}

/**
 * Moves the deliveries still failed or expired to their new state (attempts and provider
 * answers reset), with a `redriven` history step (and `suppressed` where the new plan dropped
 * it); returns those moved.
 */
export async function redrive(q: Queryable, items: Redrive[]): Promise<Set<string>> {
  const moved = await rows<{ id: string }>(
    q,
    `WITH v AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::jsonb[])
         AS v(id, status, reason, plugin, job, held_until, links)
     ),
     old AS (
       SELECT d.id, d.status FROM deliveries d JOIN v ON v.id = d.id
        WHERE ${allowedSql('redrive', 'd.status', 'v.status')} ORDER BY d.id FOR UPDATE OF d
     ),
     u AS (
       UPDATE deliveries d SET status = v.status, reason = v.reason, plugin = COALESCE(v.plugin, d.plugin),
              job = v.job, held_until = v.held_until, links = v.links, attempts = 0, provider_message_id = NULL,
              error_code = NULL, error_message = NULL, updated_at = now()
         FROM v, old WHERE d.id = v.id AND old.id = d.id
       RETURNING d.id, d.status, d.reason, old.status AS was, d.app_id, old.status AS from_status, d.status AS to_status
     ),${unsettledCtes('u')},
     history AS (
       INSERT INTO delivery_events (delivery_id, status, detail)
       SELECT id, step, detail FROM (
         SELECT id, 'redriven' AS step, jsonb_build_object('from', was, 'source', 'api') AS detail, 0 AS ord FROM u
         UNION ALL
         SELECT id, 'suppressed', jsonb_build_object('reason', reason), 1 FROM u WHERE status = 'suppressed'
       ) h ORDER BY id, ord
     )
     SELECT id FROM u`,
    [
      items.map((r) => r.id),
      items.map((r) => r.status),
      items.map((r) => r.reason),
      items.map((r) => r.plugin),
      items.map((r) => r.jobJson),
      items.map((r) => r.heldUntil),
      items.map((r) => r.linksJson),
    ],
  );
  return new Set(moved.map((r) => r.id));
}
