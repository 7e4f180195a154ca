import type { Queryable } from '../../database/prepared';

/** A contact a worker found invalid; `since` (ISO time): disable it only if not re-registered after then (APNs). */
export interface InvalidContact {
  id: string;
  reason: string;
  since: string | null;
}

/**
 * Disables contacts a send proved invalid, in one statement; run in the transaction that records
 * the outcome, so a crash leaves both or neither.
 */
export async function disableContacts(tx: Queryable, contacts: readonly InvalidContact[]): Promise<void> {
  await tx.query(
    `UPDATE contacts c SET disabled_at = now(), disabled_reason = v.reason, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(id, reason, since)
      WHERE c.id = v.id AND c.disabled_at IS NULL AND (v.since IS NULL OR c.updated_at <= v.since)`,
    [contacts.map((c) => c.id), contacts.map((c) => c.reason), contacts.map((c) => c.since)],
  );
}

/**
 * Disables the contacts of these deliveries (a hard bounce, a spam report), in one statement;
 * run in the transaction that records the tracked step.
 */
export async function disableContactsOf(
  tx: Queryable,
  deliveries: readonly { deliveryId: string; reason: string }[],
): Promise<void> {
  await tx.query(
    `UPDATE contacts c SET disabled_at = now(), disabled_reason = v.reason, updated_at = now()
       FROM unnest($1::uuid[], $2::text[]) AS v(delivery_id, reason) JOIN deliveries d ON d.id = v.delivery_id
      WHERE c.id = d.contact_id AND c.disabled_at IS NULL`,
    [deliveries.map((d) => d.deliveryId), deliveries.map((d) => d.reason)],
  );
}
