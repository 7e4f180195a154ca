import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';
import type { DeliveryStatus } from '../delivery-status';
import { bumpStats, bumpsFor } from '../stats-rollup';
import { allowedSql } from '../transitions';
import { deliveriesOfProviderIds, providerMessagesCte } from './provider-messages';
import { unsettledCtes } from './unsettled';

/** A step reported from outside the worker (provider callback, link, pixel, client), as the store writes it. */
export interface TrackedMove {
  id: string;
  status: DeliveryStatus;
  reason: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  providerMessageId: string | null;
  /** The history row's detail, already JSON. */
  detail: (moved: TrackedChange) => string;
}

/** A delivery a tracked step moved. */
export interface TrackedChange {
  id: string;
  from: DeliveryStatus;
  to: DeliveryStatus;
  reason: string | null;
  appId: string;
  userId: string | null;
  externalUserId: string | null;
  contactId: string | null;
  channel: string;
  plugin: string | null;
  notificationId: string;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/**
 * Applies one round of tracked steps (at most one per delivery: an UPDATE … FROM applies one row
 * per target) where the transition table lets tracking make the move, logs each move and counts
 * it in the stats. `old` locks the rows (id order) and reads their current status: the rollup
 * counts each step exactly once. Run inside the caller's transaction.
 */
export async function recordTrackedRound(tx: Queryable, round: TrackedMove[]): Promise<TrackedChange[]> {
  const changed = await rows<TrackedChange>(
    tx,
    `WITH old AS (SELECT id, status, provider_message_id FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE),
     moved AS (
       UPDATE deliveries d SET
         status = v.status,
         reason = CASE WHEN v.status = 'failed' THEN v.reason ELSE d.reason END,
         error_code = COALESCE(v.code, d.error_code),
         error_message = COALESCE(v.message, d.error_message),
         provider_message_id = COALESCE(d.provider_message_id, v.pmid),
         job = NULL, -- past queued: nothing enqueues it again
         updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v(id, status, reason, code, message, pmid), old
       WHERE d.id = v.id AND old.id = d.id AND ${allowedSql('tracking', 'd.status', 'v.status')}
       RETURNING d.id, old.status AS from_status, d.status AS to_status, d.reason, d.app_id, d.user_id,
                 d.contact_id, d.channel, d.plugin, d.notification_id, d.provider_message_id,
                 old.provider_message_id AS old_provider_message_id, d.error_code, d.error_message
     ),${unsettledCtes('moved')},${providerMessagesCte('moved')}
     SELECT m.id, m.from_status AS "from", m.to_status AS "to", m.reason, m.app_id AS "appId", m.user_id AS "userId",
            (SELECT external_id FROM users u WHERE u.id = m.user_id) AS "externalUserId",
            m.contact_id AS "contactId", m.channel, m.plugin, m.notification_id AS "notificationId",
            m.provider_message_id AS "providerMessageId", m.error_code AS "errorCode", m.error_message AS "errorMessage"
       FROM moved m`,
    [
      round.map((x) => x.id),
      round.map((x) => x.status),
      round.map((x) => x.reason),
      round.map((x) => x.errorCode),
      round.map((x) => x.errorMessage),
      round.map((x) => x.providerMessageId),
    ],
  );
  if (changed.length === 0) return changed;
  const byId = new Map(changed.map((c) => [c.id, c]));
  const moved = round.filter((x) => byId.has(x.id));
  await tx.query(
    `INSERT INTO delivery_events (delivery_id, status, detail) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`,
    [moved.map((x) => x.id), moved.map((x) => x.status), moved.map((x) => x.detail(byId.get(x.id)!))],
  );
  // A provider failing a message it had accepted means it was sent, even if that callback overtook our own "sent".
  const overtaken = changed.filter((c) => c.to === 'failed' && (c.from === 'pending' || c.from === 'queued'));
  await bumpStats(tx, [
    ...bumpsFor(changed),
    ...overtaken.map((c) => ({ id: c.id, metric: 'sent', reason: null })),
  ]);
  return changed;
}

/** Which of these delivery ids exist, and the deliveries of these provider message ids (two reads at most). */
export async function findTracked(
  q: Queryable,
  deliveryIds: string[],
  providerMessageIds: string[],
): Promise<{ existing: Set<string>; byProviderId: Map<string, string> }> {
  const byProviderId = new Map<string, string>();
  if (providerMessageIds.length > 0) {
    for (const f of await deliveriesOfProviderIds(q, providerMessageIds)) byProviderId.set(f.pmid, f.id);
  }
  const existing = new Set<string>();
  if (deliveryIds.length > 0) {
    const found = await rows<{ id: string }>(q, 'SELECT id FROM deliveries WHERE id = ANY($1::uuid[])', [
      deliveryIds,
    ]);
    for (const f of found) existing.add(f.id);
  }
  return { existing, byProviderId };
}
