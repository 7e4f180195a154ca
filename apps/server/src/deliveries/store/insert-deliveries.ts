import { jsonbListParam, jsonbListSql } from '../../database/jsonb-list';
import { preparedQuery, type Queryable } from '../../database/prepared';
import type { DeliveryPlan } from '../delivery-plan';
import { STATS_UPSERT_CTES } from '../stats-rollup';
import { storedJob } from './stored-job';
import { storedRequest } from './stored-request';
import { unsettledCtes } from './unsettled';

/** A delivery to write, with the notification it belongs to. */
export interface DeliveryRow {
  plan: DeliveryPlan;
  notificationId: string;
  appId: string;
}

/** A notification row to insert in the same statement as its deliveries. */
export interface NotificationRow {
  id: string;
  appId: string;
  eventId: string | null;
  status: string;
  category: string | null;
  priority: string;
  request: unknown;
  sendAt: string | null;
  expiresAt: string | null;
  recipients: number;
  /** The stored template and version the notification was rendered from. */
  templateKey: string | null;
  templateVersion: number | null;
}

/**
 * One statement writes the deliveries and everything that goes with them: the `suppressed` and
 * `held` history rows and the stats rollup ("requested" for each, "suppressed" by reason). `n` is
 * a CTE giving (id, template, category) of the notifications, inserted by the same statement or
 * read. One statement is one round trip and is atomic on its own: the request path needs no
 * BEGIN/COMMIT when no eventId is claimed. `resumable`: ON CONFLICT makes a resumed fan-out chunk
 * harmless: only rows inserted now get history and counts. The request path's deliveries belong to
 * notifications the same statement creates, so nothing can conflict, and a plain INSERT saves a
 * speculative-insertion record per row (48 bytes of WAL). `$k` numbering starts after `offset`.
 *
 * `queuedNow`: the caller puts every `pending` delivery on its queue right after this statement
 * (the request path, a fan-out chunk), so they are written `queued`, with `queued_at`, and the enqueuer's
 * pending → queued UPDATE finds nothing to do: a second copy of each row (its rendered job
 * included) and an entry in every index less (WAL per delivery, docs/benchmarks.md). Should the
 * enqueue fail, or the process die before it, the queue reconciler re-adds a `queued` delivery
 * whose job Redis does not hold once the grace period has passed (relay/queue-reconciler.ts).
 */
function writeSql(notificationsCte: string, offset: number, queuedNow: boolean, resumable: boolean): string {
  const p = (k: number) => `$${offset + k}`;
  const now = `s = 'pending' AND j IS NOT NULL`;
  const status = queuedNow ? `CASE WHEN ${now} THEN 'queued' ELSE s END` : 's';
  const queuedAt = queuedNow ? `CASE WHEN ${now} THEN now() END` : 'NULL::timestamptz';
  return `WITH n AS (${notificationsCte}),
     d AS (
       INSERT INTO deliveries (id, notification_id, app_id, user_id, contact_id, channel, plugin, status, reason, job, held_until, links,
                               queued_at)
       SELECT id, nid, aid, uid, cid, ch, pl, ${status}, r, j, hu, l, ${queuedAt}
         FROM unnest(${p(1)}::uuid[], ${p(2)}::uuid[], ${p(3)}::uuid[], ${p(4)}::uuid[], ${p(5)}::uuid[], ${p(6)}::text[],
                     ${p(7)}::text[], ${p(8)}::text[], ${p(9)}::text[], ${jsonbListSql(p(10))}, ${p(11)}::timestamptz[],
                     ${jsonbListSql(p(12))})
           AS v(id, nid, aid, uid, cid, ch, pl, s, r, j, hu, l)
       ${resumable ? 'ON CONFLICT DO NOTHING' : ''}
       RETURNING id, notification_id, app_id, channel, COALESCE(plugin, '') AS plugin, status, reason
     ),
     ${unsettledCtes('d', { inserted: true })},
     holds AS (SELECT * FROM unnest(${p(13)}::uuid[], ${p(14)}::text[], ${p(15)}::text[]) AS h(id, reason, until)),
     history AS (
       INSERT INTO delivery_events (delivery_id, status, detail)
       SELECT d.id, 'suppressed', jsonb_build_object('reason', d.reason) FROM d WHERE d.status = 'suppressed'
       UNION ALL
       SELECT h.id, 'held', jsonb_build_object('reason', h.reason, 'until', h.until) FROM holds h JOIN d ON d.id = h.id
     ),
     src AS (
       SELECT date_trunc('hour', now()) AS bucket, d.app_id, d.channel, d.plugin, n.template, n.category,
              m.metric, COALESCE(m.reason, '') AS reason, count(*) AS n
         FROM d JOIN n ON n.id = d.notification_id
         CROSS JOIN LATERAL (SELECT 'requested'::text AS metric, NULL::text AS reason
                             UNION ALL SELECT 'suppressed', d.reason WHERE d.status = 'suppressed') AS m
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
     ),${STATS_UPSERT_CTES}
     SELECT id FROM d`;
}

/** A delivery with its JSON columns already serialised. */
export interface SerializedDelivery extends DeliveryRow {
  jobJson: string | null;
  linksJson: string | null;
}

/** A notification with its request already serialised. */
export interface SerializedNotification extends Omit<NotificationRow, 'request'> {
  requestJson: string;
}

/**
 * JSON for the jsonb columns, made before rows join a shared statement: a value that cannot be
 * serialised then fails where it is built (its own request), never the statement of others.
 */
export function serializeDeliveries(rows: DeliveryRow[]): SerializedDelivery[] {
  return rows.map((r) => ({
    ...r,
    jobJson: r.plan.job ? JSON.stringify(storedJob(r.plan.job, r.plan.userId)) : null,
    linksJson: r.plan.links ? JSON.stringify(r.plan.links) : null,
  }));
}

export function serializeNotification<R extends NotificationRow>(
  row: R,
): Omit<R, 'request'> & { requestJson: string } {
  const { request, ...rest } = row;
  return { ...rest, requestJson: JSON.stringify(storedRequest(request)) };
}

function deliveryParams(rows: SerializedDelivery[]): unknown[] {
  const held = rows.filter((r) => r.plan.hold);
  return [
    rows.map((r) => r.plan.id),
    rows.map((r) => r.notificationId),
    rows.map((r) => r.appId),
    rows.map((r) => r.plan.userId),
    rows.map((r) => r.plan.contactId),
    rows.map((r) => r.plan.channel),
    rows.map((r) => r.plan.plugin),
    rows.map((r) => r.plan.status),
    rows.map((r) => r.plan.reason),
    jsonbListParam(rows.map((r) => r.jobJson)),
    rows.map((r) => r.plan.hold?.until ?? null),
    jsonbListParam(rows.map((r) => r.linksJson)),
    held.map((r) => r.plan.id),
    held.map((r) => r.plan.hold!.reason),
    held.map((r) => r.plan.hold!.until),
  ];
}

/**
 * At most one delivery per (notification, contact, channel), the first: what `deliveries_once`
 * and ON CONFLICT DO NOTHING keep, for the statement without ON CONFLICT.
 */
function oncePerContact(rows: SerializedDelivery[]): SerializedDelivery[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    if (r.plan.contactId === null) return true;
    const key = `${r.notificationId} ${r.plan.contactId} ${r.plan.channel}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const insertedIds = (rows: { id: string }[]) => new Set(rows.map((r) => r.id));

/** Notifications and their deliveries in one statement; the caller enqueues the pending ones right after (written `queued`). */
export async function insertNotifications(
  q: Queryable,
  notifications: SerializedNotification[],
  deliveries: SerializedDelivery[],
): Promise<void> {
  if (notifications.length === 0) return;
  await preparedQuery(
    q,
    writeSql(
      `INSERT INTO notifications (id, app_id, event_id, status, category, priority, request, send_at, expires_at, recipients,
                                  template_key, template_version)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], ${jsonbListSql('$7')},
                            $8::timestamptz[], $9::timestamptz[], $10::int[], $11::text[], $12::int[])
       RETURNING id, COALESCE(request->>'template', '') AS template, COALESCE(category, '') AS category`,
      12,
      true,
      false,
    ),
    [
      notifications.map((r) => r.id),
      notifications.map((r) => r.appId),
      notifications.map((r) => r.eventId),
      notifications.map((r) => r.status),
      notifications.map((r) => r.category),
      notifications.map((r) => r.priority),
      jsonbListParam(notifications.map((r) => r.requestJson)),
      notifications.map((r) => r.sendAt),
      notifications.map((r) => r.expiresAt),
      notifications.map((r) => r.recipients),
      notifications.map((r) => r.templateKey),
      notifications.map((r) => r.templateVersion),
      ...deliveryParams(oncePerContact(deliveries)),
    ],
  );
}

/**
 * Deliveries of notifications already stored (fan-out chunks, escalation steps); returns the ids
 * inserted now. `queuedNow` as for the request path (`writeSql`): the caller enqueues the rows
 * inserted right after, so they are written `queued` and no UPDATE per delivery marks them later.
 */
export async function insertDeliveries(
  q: Queryable,
  rows: DeliveryRow[],
  { queuedNow = false }: { queuedNow?: boolean } = {},
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  return insertedIds(
    await preparedQuery<{ id: string }>(
      q,
      writeSql(
        `SELECT id, COALESCE(request->>'template', '') AS template, COALESCE(category, '') AS category
           FROM notifications WHERE id = ANY($1::uuid[])`,
        1,
        queuedNow,
        true,
      ),
      [[...new Set(rows.map((r) => r.notificationId))], ...deliveryParams(serializeDeliveries(rows))],
    ),
  );
}
