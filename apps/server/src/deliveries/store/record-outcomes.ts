import { jsonbListParam, jsonbListSql } from '../../database/jsonb-list';
import { preparedQuery, type Queryable } from '../../database/prepared';
import type { DeliveryStatus } from '../delivery-status';
import { STATS_UPSERT_CTES } from '../stats-rollup';
import { allowedSql, metricsForSql } from '../transitions';
import { providerMessagesCte } from './provider-messages';
import { unsettledCtes } from './unsettled';

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
 * The conditions for applying outcome `v` to a delivery as row `r` has it: the transition table
 * lets a worker make that move, and two more the table cannot see: a late `sent` after a provider
 * callback had already failed the message (it carries the provider's id) is no step back, and
 * `sent_at` keeps the first `sent` for good (the send gate's durable record), so a repeated
 * `sent` changes nothing and logs nothing.
 */
const appliesSql = (r: string) => `${allowedSql('outcome', `${r}.status`, TO_STATUS)}
      AND NOT (${r}.status = 'failed' AND v.status = 'sent' AND ${r}.provider_message_id IS NOT NULL)
      AND NOT (v.status = 'sent' AND ${r}.sent_at IS NOT NULL)`;

/**
 * Records a batch of outcomes in one statement. `old` reads the rows as the statement's snapshot
 * has them, without locking them: a row lock is a WAL record per delivery (about 54 bytes,
 * docs/benchmarks.md) on top of the update's own. `moved` applies each outcome that `appliesSql`
 * allows, compare-and-set on the status read: a row another writer changed meanwhile (PostgreSQL
 * re-checks the condition on the row's newest version) is left alone, and the statement answers
 * those ids (outcomes that would have applied to the status read but did not), for
 * `recordOutcomes` to run again against the new status. `old.status` is therefore the status each
 * moved row had, which the history and the stats count from. The history gets every outcome of the
 * deliveries that moved (an outcome refused is not logged), preceded by `queued` where a worker
 * finished the job before the enqueuer marked it queued. The stats rollup counts each funnel step
 * crossed, or the failure (`metricsForSql`). $1–$7: the update per delivery; $8–$11: every
 * outcome, in order, for the history; $12: the plugins whose provider ids need no lookup row
 * (providerMessagesCte). Rows are locked by the update in the order of $1, which
 * `recordOutcomes` sorts by id like every other batched writer (two batches cannot deadlock).
 *
 * A delivery's `sent` step is not a history row when the update itself records it (the update's
 * outcome is `sent`, so `sent_at` is set now): its attempt and detail go into the row's own
 * `sent_event` (SENT_STEP_SQL), which the history shows at `sent_at` (deliveries/delivery-queries.ts). That
 * saves a history row and its index entry per delivery (WAL, docs/benchmarks.md); the row is
 * rewritten by the update anyway. A `sent` the update does not end on (a failure follows it in
 * the same batch) stays a row. The batch holds at most one `sent` per delivery (status-writer.ts).
 */
export const RECORD_OUTCOMES_SQL = `
  WITH v AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
      AS v(id, status, reason, attempt, pmid, code, message)
  ),
  steps AS (
    SELECT * FROM unnest($8::uuid[], $9::text[], $10::int[], ${jsonbListSql('$11')}) WITH ORDINALITY AS e(id, status, attempt, detail, ord)
  ),
  old AS (SELECT id, status, provider_message_id, sent_at FROM deliveries WHERE id = ANY($1::uuid[])),
  sent AS (
    SELECT DISTINCT ON (e.id) e.id, e.attempt, e.detail
      FROM steps e
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
    FROM v
         JOIN old ON old.id = v.id
         LEFT JOIN sent ON sent.id = v.id
    WHERE d.id = v.id AND d.status = old.status
      AND ${appliesSql('d')}
    RETURNING d.id, d.notification_id, d.app_id, d.channel, COALESCE(d.plugin, '') AS plugin,
              old.status AS from_status, d.status AS to_status, d.reason, v.status = 'sent' AS sent_in_row,
              d.provider_message_id, old.provider_message_id AS old_provider_message_id
  ),${unsettledCtes('moved')},${providerMessagesCte('moved', '$12')},
  history AS (
    INSERT INTO delivery_events (delivery_id, status, attempt, detail)
    SELECT id, status, attempt, detail FROM (
      SELECT m.id, 'queued' AS status, NULL::int AS attempt, NULL::jsonb AS detail, 0 AS ord
        FROM moved m WHERE m.from_status = 'pending'
      UNION ALL
      SELECT e.id, e.status, e.attempt, e.detail, e.ord
        FROM steps e
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
  SELECT v.id::text AS id
    FROM v JOIN old ON old.id = v.id
   WHERE ${appliesSql('old')} AND v.id NOT IN (SELECT id FROM moved)`;

/** How often a batch's outcomes are tried against statuses other writers keep changing (each round needs a new change). */
const MAX_ROUNDS = 10;

/**
 * Worker outcomes: the deliveries' new status, their history and the stats rollup, in one
 * statement (atomic on its own), and again for the outcomes whose row another writer changed
 * between the statement's read and its update (rare: a callback or a cancel at the same moment).
 */
export async function recordOutcomes(
  q: Queryable,
  updates: OutcomeUpdate[],
  history: OutcomeHistory[],
  /** Plugins known to take no callbacks: their provider ids get no lookup row (providerMessagesCte). */
  withoutCallbacks: readonly string[] = [],
): Promise<void> {
  let batch = [...updates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let steps = history;
  for (let round = 1; batch.length > 0; round += 1) {
    if (round > MAX_ROUNDS)
      throw new Error(`outcomes of ${batch.length} deliveries kept meeting concurrent changes; not recorded`);
    const again = new Set(
      (
        await preparedQuery<{ id: string }>(q, RECORD_OUTCOMES_SQL, [
          batch.map((r) => r.id),
          batch.map((r) => r.status),
          batch.map((r) => r.reason),
          batch.map((r) => r.attempt),
          batch.map((r) => r.providerMessageId),
          batch.map((r) => r.errorCode),
          batch.map((r) => r.errorMessage),
          steps.map((r) => r.id),
          steps.map((r) => r.status),
          steps.map((r) => r.attempt),
          jsonbListParam(steps.map((r) => r.detailJson)),
          withoutCallbacks,
        ])
      ).map((r) => r.id),
    );
    batch = batch.filter((r) => again.has(r.id));
    steps = steps.filter((r) => again.has(r.id));
  }
}

/**
 * A delivery counts as sent once `sent_at` is set, or (rows written before it existed, or whose
 * `sent` a provider callback overtook) by a status only a sent delivery reaches.
 */
export const SEND_RECORDS_SQL = `
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
