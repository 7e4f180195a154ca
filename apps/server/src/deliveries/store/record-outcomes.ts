import { preparedQuery, type Queryable } from '../../database/prepared';
import type { DeliveryStatus } from '../delivery-status';
import { STATS_UPSERT_CTES } from '../stats-rollup';
import { allowedSql, metricsForSql } from '../transitions';

/** A worker outcome as the store writes it: `retrying` keeps the delivery `queued` and logs the attempt. */
export type OutcomeStatus = Extract<DeliveryStatus, 'sent' | 'failed' | 'expired' | 'canceled'> | 'retrying';

/** One delivery's update: its latest outcome of the batch. */
export interface OutcomeUpdate {
  id: string;
  status: OutcomeStatus;
  reason: string | null;
  attempt: number;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** One history row: every outcome of the batch, in order. `detail` is already JSON. */
export interface OutcomeHistory {
  id: string;
  status: OutcomeStatus;
  attempt: number;
  detailJson: string;
}

/**
 * The `sent` step as the row keeps it, without what its columns already say (about 45 bytes less
 * per delivery, written to the heap and the WAL): the attempt only when it is not the row's
 * `attempts`, the detail without `plugin` when that is the row's plugin. `sentStepSql`
 * (deliveries/delivery-queries.ts) puts both back; rows written whole read the same.
 */
const SENT_STEP_SQL = `(
        CASE WHEN sent.attempt IS NOT DISTINCT FROM GREATEST(d.attempts, v.attempt) THEN '{}'::jsonb
             ELSE jsonb_build_object('attempt', sent.attempt) END
        || CASE WHEN sent.detail IS NULL THEN '{}'::jsonb
                WHEN sent.detail->>'plugin' = d.plugin THEN jsonb_build_object('detail', sent.detail - 'plugin')
                ELSE jsonb_build_object('detail', sent.detail) END)`;

/** The status a `retrying` outcome leaves the delivery in. */
const TO_STATUS = `(CASE WHEN v.status = 'retrying' THEN 'queued' ELSE v.status END)`;

/**
 * Records a batch of outcomes in one statement. `old` locks the rows first (in id order:
 * concurrent batches cannot deadlock) and reads their current status; `moved` applies the
 * outcome per delivery where the transition table lets a worker make that move, and two more
 * conditions the table cannot see: a late `sent` after a provider callback had already failed the
 * message (it carries the provider's id) is no step back, and `sent_at` keeps the first `sent` for
 * good (the send gate's durable record), so a repeated `sent` changes nothing and logs nothing.
 * The history gets every outcome of the deliveries that moved (an outcome the UPDATE refused is
 * not logged), preceded by `queued` where a worker finished the job before the enqueuer marked it
 * queued. The stats rollup counts each funnel step crossed, or the failure (`metricsForSql`).
 * $1–$7: the update per delivery; $8–$11: every outcome, in order, for the history.
 *
 * A delivery's `sent` step is not a history row when the update itself records it (the update's
 * outcome is `sent`, so `sent_at` is set now): its attempt and detail go into the row's own
 * `sent_event` (SENT_STEP_SQL), which the history shows at `sent_at` (deliveries/delivery-queries.ts). That
 * saves a history row and its index entry per delivery (WAL, docs/benchmarks.md); the row is
 * rewritten by the update anyway. A `sent` the update does not end on (a failure follows it in
 * the same batch) stays a row. The batch holds at most one `sent` per delivery (status-writer.ts).
 */
const RECORD_OUTCOMES_SQL = `
  WITH old AS (SELECT id, status FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE),
  sent AS (
    SELECT DISTINCT ON (e.id) e.id, e.attempt, e.detail
      FROM unnest($8::uuid[], $9::text[], $10::int[], $11::jsonb[]) WITH ORDINALITY AS e(id, status, attempt, detail, ord)
     WHERE e.status = 'sent' ORDER BY e.id, e.ord
  ),
  moved AS (
    UPDATE deliveries d SET
      status = ${TO_STATUS},
      reason = v.reason,
      attempts = GREATEST(d.attempts, v.attempt),
      provider_message_id = COALESCE(v.pmid, d.provider_message_id),
      error_code = v.code, error_message = v.message, updated_at = now(),
      sent_at = CASE WHEN v.status = 'sent' THEN COALESCE(d.sent_at, now()) ELSE d.sent_at END,
      -- Only a pending or queued delivery's job can be enqueued again from here: at its end the
      -- rendered content (e-mail HTML, personal data) is dropped rather than kept for the retention period.
      job = CASE WHEN v.status = 'retrying' THEN d.job END,
      sent_event = CASE WHEN v.status = 'sent' THEN ${SENT_STEP_SQL} ELSE d.sent_event END
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
         AS v(id, status, reason, attempt, pmid, code, message)
         JOIN old ON old.id = v.id
         LEFT JOIN sent ON sent.id = v.id
    WHERE d.id = v.id
      AND ${allowedSql('outcome', 'd.status', TO_STATUS)}
      AND NOT (d.status = 'failed' AND v.status = 'sent' AND d.provider_message_id IS NOT NULL)
      AND NOT (v.status = 'sent' AND d.sent_at IS NOT NULL)
    RETURNING d.id, d.notification_id, d.app_id, d.channel, COALESCE(d.plugin, '') AS plugin,
              old.status AS from_status, d.status AS to_status, d.reason, v.status = 'sent' AS sent_in_row
  ),
  history AS (
    INSERT INTO delivery_events (delivery_id, status, attempt, detail)
    SELECT id, status, attempt, detail FROM (
      SELECT m.id, 'queued' AS status, NULL::int AS attempt, NULL::jsonb AS detail, 0 AS ord
        FROM moved m WHERE m.from_status = 'pending'
      UNION ALL
      SELECT e.id, e.status, e.attempt, e.detail, e.ord
        FROM unnest($8::uuid[], $9::text[], $10::int[], $11::jsonb[]) WITH ORDINALITY AS e(id, status, attempt, detail, ord)
       WHERE e.id IN (SELECT id FROM moved)
         AND NOT (e.status = 'sent' AND e.id IN (SELECT id FROM moved WHERE sent_in_row))
    ) h ORDER BY ord
  ),
  src AS (
    SELECT date_trunc('hour', now()) AS bucket, m.app_id, m.channel, m.plugin,
           COALESCE(n.request->>'template', '') AS template, COALESCE(n.category, '') AS category,
           x.metric, COALESCE(x.reason, '') AS reason, count(*) AS n
      FROM moved m
      LEFT JOIN notifications n ON n.id = m.notification_id
      CROSS JOIN LATERAL ${metricsForSql('m.from_status', 'm.to_status', 'm.reason')} AS x
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ),${STATS_UPSERT_CTES}
  SELECT 1`;

/** Worker outcomes: the deliveries' new status, their history and the stats rollup, in one statement (atomic on its own). */
export async function recordOutcomes(
  q: Queryable,
  updates: OutcomeUpdate[],
  history: OutcomeHistory[],
): Promise<void> {
  await preparedQuery(q, RECORD_OUTCOMES_SQL, [
    updates.map((r) => r.id),
    updates.map((r) => r.status),
    updates.map((r) => r.reason),
    updates.map((r) => r.attempt),
    updates.map((r) => r.providerMessageId),
    updates.map((r) => r.errorCode),
    updates.map((r) => r.errorMessage),
    history.map((r) => r.id),
    history.map((r) => r.status),
    history.map((r) => r.attempt),
    history.map((r) => r.detailJson),
  ]);
}

/**
 * A delivery counts as sent once `sent_at` is set, or (rows written before it existed, or whose
 * `sent` a provider callback overtook) by a status only a sent delivery reaches.
 */
const SEND_RECORDS_SQL = `
  SELECT id::text, status, plugin, provider_message_id,
         (sent_at IS NOT NULL OR status IN ('sent', 'delivered', 'opened', 'clicked')) AS sent
    FROM deliveries WHERE id = ANY($1::uuid[])`;

export interface SendRecordRow {
  id: string;
  status: DeliveryStatus;
  plugin: string | null;
  provider_message_id: string | null;
  sent: boolean;
}

/** The send gate's durable record of these deliveries (a read, one statement). */
export function readSendRecords(q: Queryable, deliveryIds: readonly string[]): Promise<SendRecordRow[]> {
  return preparedQuery<SendRecordRow>(q, SEND_RECORDS_SQL, [deliveryIds]);
}
