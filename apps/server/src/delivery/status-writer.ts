import type { DeliveryOutcome, DeliveryRecord, DeliveryRecords, DeliveryReporter } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { preparedQuery } from '../database/prepared';
import { isRefusedValue } from '../database/refused-value';
import { storable, storableJson } from '../database/storable';
import { DeliveryMetrics } from '../ops/delivery-metrics';
import { metricsForSql } from '../tracking/lifecycle';
import { STATS_UPSERT_CTES } from '../tracking/stats-rollup';

/** Later states win; a late `retrying` never overwrites `sent`. Terminal failures rank with sent. */
const RANK: Record<string, number> = {
  pending: 0,
  queued: 1,
  retrying: 1,
  sent: 3,
  failed: 3,
  expired: 3,
  canceled: 3,
  delivered: 4,
  opened: 5,
  clicked: 6,
};

interface Row {
  id: string;
  status: string;
  reason: string | null;
  attempt: number;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  detail: Record<string, unknown>;
}

function toRow(o: DeliveryOutcome): Row {
  const base = {
    id: o.job.deliveryId,
    attempt: o.attempt,
    providerMessageId: null,
    errorCode: null,
    errorMessage: null,
  };
  switch (o.type) {
    case 'sent':
      return {
        ...base,
        status: 'sent',
        reason: null,
        providerMessageId: o.providerMessageId ?? null,
        detail: { plugin: o.job.plugin, providerMessageId: o.providerMessageId, ...o.details },
      };
    case 'retrying':
      return {
        ...base,
        status: 'retrying',
        reason: null,
        errorCode: o.error.code ?? null,
        errorMessage: o.error.message,
        detail: { plugin: o.job.plugin, error: o.error },
      };
    case 'failed':
      return {
        ...base,
        status: 'failed',
        reason: o.reason,
        errorCode: o.error.code ?? null,
        errorMessage: o.error.message,
        detail: { plugin: o.job.plugin, error: o.error },
      };
    case 'expired':
      return { ...base, status: 'expired', reason: 'expired', detail: { plugin: o.job.plugin } };
    case 'canceled':
      return {
        ...base,
        status: 'canceled',
        reason: 'canceled',
        detail: { plugin: o.job.plugin, by: 'worker' },
      };
    case 'rerouted':
      // Normally taken by OutcomeRouter (delivery/outcome-router.ts); recorded like a retry if it gets here.
      return {
        ...base,
        status: 'retrying',
        reason: null,
        detail: { plugin: o.job.plugin, reroutedTo: o.next.plugin, cause: o.cause },
      };
  }
}

/**
 * Records a batch of outcomes in one statement. `old` locks the rows first (in id order:
 * concurrent batches cannot deadlock) and reads their current status; `moved` applies the
 * highest outcome per delivery where the lifecycle allows it; `sent_at` keeps the first `sent` for
 * good (the send gate's durable record), and a repeated `sent` (a job run again after its send was
 * recorded) changes nothing and logs nothing. The history gets every outcome of
 * the deliveries that moved (an outcome the UPDATE refused, such as a late "sent" after a
 * provider's "delivered", changed nothing and is not logged after the later step), preceded by
 * `queued` where a worker finished the job before the enqueuer marked it queued. The stats
 * rollup counts each funnel step crossed, or the failure (`metricsForSql`, tracking/lifecycle.ts).
 * $1–$7: the update per delivery; $8–$11: every outcome, in order, for the history.
 */
const RECORD_OUTCOMES_SQL = `
  WITH old AS (SELECT id, status FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE),
  moved AS (
    UPDATE deliveries d SET
      status = CASE WHEN v.status = 'retrying' THEN 'queued' ELSE v.status END,
      reason = v.reason,
      attempts = GREATEST(d.attempts, v.attempt),
      provider_message_id = COALESCE(v.pmid, d.provider_message_id),
      error_code = v.code, error_message = v.message, updated_at = now(),
      sent_at = CASE WHEN v.status = 'sent' THEN COALESCE(d.sent_at, now()) ELSE d.sent_at END,
      -- Only a pending or queued delivery's job can be enqueued again from here: at its end the
      -- rendered content (e-mail HTML, personal data) is dropped rather than kept for the retention period.
      job = CASE WHEN v.status = 'retrying' THEN d.job END
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
         AS v(id, status, reason, attempt, pmid, code, message), old
    WHERE d.id = v.id AND old.id = d.id
      AND d.status NOT IN ('delivered', 'opened', 'clicked', 'canceled', 'suppressed')
      AND NOT (d.status IN ('sent', 'failed', 'expired') AND v.status = 'retrying')
      -- A provider callback that overtook this outcome already failed it (bounce): a late "sent" is no step back.
      AND NOT (d.status = 'failed' AND v.status = 'sent' AND d.provider_message_id IS NOT NULL)
      AND NOT (v.status = 'sent' AND (d.status = 'sent' OR d.sent_at IS NOT NULL))
    RETURNING d.id, d.notification_id, d.app_id, d.channel, COALESCE(d.plugin, '') AS plugin,
              old.status AS from_status, d.status AS to_status, d.reason
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

/**
 * The host side of the plugin contract: records outcomes durably, many at a time (one UPDATE and
 * one INSERT per batch). A `retrying` outcome keeps the delivery `queued` and logs the attempt.
 * Invalid addresses disable the contact (APNs: only if it was not re-registered since).
 */
/** Called after a batch of outcomes is durable (status webhooks, fallback). Must not throw or block. */
export type OutcomeListener = (outcomes: DeliveryOutcome[]) => void;

/**
 * The send gate's durable record (DeliveryRecords): one statement per batch of jobs about to send.
 * A delivery counts as sent once `sent_at` is set, or (rows written before it existed, or whose
 * `sent` a provider callback overtook) by a status only a sent delivery reaches.
 */
const LOOKUP_SQL = `
  SELECT id::text, status, plugin, provider_message_id,
         (sent_at IS NOT NULL OR status IN ('sent', 'delivered', 'opened', 'clicked')) AS sent
    FROM deliveries WHERE id = ANY($1::uuid[])`;

@Injectable()
export class StatusWriter implements DeliveryReporter, DeliveryRecords {
  private readonly batcher: Batcher<DeliveryOutcome, undefined>;
  private readonly listeners: OutcomeListener[] = [];

  /** Subscribe to durable outcomes (e.g. outbound status webhooks). */
  onOutcomes(listener: OutcomeListener): void {
    this.listeners.push(listener);
  }

  constructor(
    private readonly db: DataSource,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.batcher = new Batcher((items) => this.flush(items), {
      maxItems: 1000,
      maxWaitMs: 5,
      concurrency: 2,
      isolate: isRefusedValue,
    });
  }

  report(outcome: DeliveryOutcome): Promise<void> {
    return this.batcher.submit(outcome);
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  async lookup(deliveryIds: readonly string[]): Promise<ReadonlyMap<string, DeliveryRecord>> {
    const rows = await preparedQuery<{
      id: string;
      status: string;
      plugin: string | null;
      provider_message_id: string | null;
      sent: boolean;
    }>(this.db, LOOKUP_SQL, [deliveryIds]);
    return new Map(
      rows.map((r) => [
        r.id,
        {
          sent: r.sent,
          open: r.status === 'pending' || r.status === 'queued',
          ...(r.plugin !== null ? { plugin: r.plugin } : {}),
          ...(r.provider_message_id !== null ? { providerMessageId: r.provider_message_id } : {}),
        },
      ]),
    );
  }

  private async flush(outcomes: DeliveryOutcome[]): Promise<undefined[]> {
    const rows = outcomes.map(toRow);
    // One row per delivery for the UPDATE (the highest state), every row for the history.
    const latest = new Map<string, Row>();
    for (const r of rows) {
      const seen = latest.get(r.id);
      if (!seen || (RANK[r.status] ?? 0) >= (RANK[seen.status] ?? 0)) latest.set(r.id, r);
    }
    const updates = [...latest.values()];
    const invalid = outcomes.filter(
      // An SMS STOP (`opted_out`) leaves the number enabled: it is valid, its owner opted out (see OutcomeRouter).
      (o): o is Extract<DeliveryOutcome, { type: 'failed' }> =>
        o.type === 'failed' &&
        o.reason === 'invalid_address' &&
        !!o.job.address.contactId &&
        o.error.addressReason !== 'opted_out',
    );
    // A job run again while its first `sent` waits in the same batch: one `sent` in the history.
    const sentSeen = new Set<string>();
    const history = rows.filter((r) => r.status !== 'sent' || (!sentSeen.has(r.id) && !!sentSeen.add(r.id)));
    const params = [
      updates.map((r) => r.id),
      updates.map((r) => r.status),
      updates.map((r) => r.reason),
      updates.map((r) => r.attempt),
      // Provider-given text may hold U+0000, which PostgreSQL cannot store (storable.ts).
      updates.map((r) => storable(r.providerMessageId)),
      updates.map((r) => storable(r.errorCode)),
      updates.map((r) => storable(r.errorMessage)),
      history.map((r) => r.id),
      history.map((r) => r.status),
      history.map((r) => r.attempt),
      history.map((r) => storableJson({ ...r.detail, reason: r.reason ?? undefined })),
    ];
    if (invalid.length === 0) {
      await preparedQuery(this.db, RECORD_OUTCOMES_SQL, params); // one statement: atomic without BEGIN/COMMIT
    } else {
      await this.db.transaction(async (tx) => {
        await preparedQuery(tx, RECORD_OUTCOMES_SQL, params);
        await tx.query(
          `UPDATE contacts c SET disabled_at = now(), disabled_reason = v.reason, updated_at = now()
             FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(id, reason, since)
            WHERE c.id = v.id AND c.disabled_at IS NULL AND (v.since IS NULL OR c.updated_at <= v.since)`,
          [
            invalid.map((o) => o.job.address.contactId),
            invalid.map((o) => o.error.addressReason ?? 'invalid'),
            invalid.map((o) => o.error.invalidSince ?? null),
          ],
        );
      });
    }
    rows.forEach((r, i) => {
      const o = outcomes[i]!;
      this.metrics.delivery(o.job.channel, o.job.plugin, r.status, r.reason);
    });
    for (const listener of this.listeners) listener(outcomes);
    return outcomes.map(() => undefined);
  }
}
