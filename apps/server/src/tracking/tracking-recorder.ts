import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { isRefusedValue } from '../database/refused-value';
import { rows } from '../database/rows';
import { optOut } from '../preferences/opt-out';
import { MAY_MOVE_SQL, type TrackedStatus } from './lifecycle';
import { bumpStats, bumpsFor } from './stats-rollup';
import { type StatusEvent, StatusEvents } from './status-event';
import { TrackingMetrics } from './tracking-metrics';

/** A step reported from outside the worker: a provider callback, a click, an open, a client app. */
export interface TrackedStep {
  /** The delivery, when the source knows it (custom args, signed link, client report)… */
  deliveryId?: string | undefined;
  /** …or the provider's message id. */
  providerMessageId?: string | undefined;
  status: TrackedStatus;
  reason?: string | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  retryable?: boolean | undefined;
  /** Who reported it: `twilio`, `sendgrid`, `link`, `pixel`, `client`… */
  source: string;
  detail?: Record<string, unknown> | undefined;
  /** Also disable the delivery's contact (hard bounce, spam report), with this reason. */
  disableContact?: string | undefined;
  /** Also opt the user out of this delivery's channel (SMS STOP), with this source. */
  optOut?: string | undefined;
}

/** What happened to one reported step. */
export type StepResult = 'changed' | 'unchanged' | 'unknown';

interface Changed {
  id: string;
  from: string;
  to: string;
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
 * Records delivered / opened / clicked / failed steps, many at a time: one lookup, one UPDATE,
 * one event INSERT and one rollup upsert per batch. A step that is not a move forward (the same
 * callback twice, a late `sent` after `delivered`) changes nothing and logs nothing.
 */
@Injectable()
export class TrackingRecorder {
  private readonly log = new Logger('tracking');
  private readonly batcher: Batcher<TrackedStep, StepResult>;

  constructor(
    private readonly db: DataSource,
    private readonly events: StatusEvents,
    private readonly metrics: TrackingMetrics,
  ) {
    this.batcher = new Batcher((items) => this.flush(items), {
      maxItems: 500,
      maxWaitMs: 5,
      concurrency: 2,
      isolate: isRefusedValue,
    });
  }

  record(step: TrackedStep): Promise<StepResult> {
    return this.batcher.submit(step);
  }

  recordAll(steps: TrackedStep[]): Promise<StepResult[]> {
    return Promise.all(steps.map((s) => this.batcher.submit(s)));
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async flush(steps: TrackedStep[]): Promise<StepResult[]> {
    const ids = await this.resolve(steps);
    const results: StepResult[] = steps.map((_, i) => (ids[i] ? 'unchanged' : 'unknown'));
    const emitted: StatusEvent[] = [];
    await this.db.transaction(async (tx) => {
      // A delivery appears once per round (an UPDATE … FROM applies one row per target), in arrival order.
      let pending = steps
        .map((s, i) => ({ s, i, id: ids[i] }))
        .filter((x): x is { s: TrackedStep; i: number; id: string } => !!x.id);
      while (pending.length > 0) {
        const seen = new Set<string>();
        const round = pending.filter((x) => {
          if (seen.has(x.id)) return false;
          seen.add(x.id);
          return true;
        });
        pending = pending.filter((x) => !round.includes(x));
        const changed = await rows<Changed>(
          tx,
          // `old` locks the rows (id order) and reads their current status: the rollup counts each step exactly once.
          `WITH old AS (SELECT id, status FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
           UPDATE deliveries d SET
             status = v.status,
             reason = CASE WHEN v.status = 'failed' THEN v.reason ELSE d.reason END,
             error_code = COALESCE(v.code, d.error_code),
             error_message = COALESCE(v.message, d.error_message),
             provider_message_id = COALESCE(d.provider_message_id, v.pmid),
             job = NULL, -- past queued: nothing enqueues it again (see the status writer)
             updated_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v(id, status, reason, code, message, pmid), old
           WHERE d.id = v.id AND old.id = d.id AND ${MAY_MOVE_SQL}
           RETURNING d.id, old.status AS "from", d.status AS "to", d.reason, d.app_id AS "appId", d.user_id AS "userId",
                     (SELECT external_id FROM users u WHERE u.id = d.user_id) AS "externalUserId",
                     d.contact_id AS "contactId", d.channel, d.plugin, d.notification_id AS "notificationId",
                     d.provider_message_id AS "providerMessageId", d.error_code AS "errorCode", d.error_message AS "errorMessage"`,
          [
            round.map((x) => x.id),
            round.map((x) => x.s.status),
            round.map((x) => x.s.reason ?? (x.s.status === 'failed' ? 'permanent' : null)),
            round.map((x) => x.s.errorCode ?? null),
            round.map((x) => x.s.errorMessage ?? null),
            round.map((x) => x.s.providerMessageId ?? null),
          ],
        );
        const byId = new Map(changed.map((c) => [c.id, c]));
        const moved = round.filter((x) => byId.has(x.id));
        for (const x of moved) results[x.i] = 'changed';
        if (moved.length > 0) {
          await tx.query(
            `INSERT INTO delivery_events (delivery_id, status, detail) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`,
            [
              moved.map((x) => x.id),
              moved.map((x) => x.s.status),
              moved.map((x) =>
                JSON.stringify({
                  source: x.s.source,
                  plugin: byId.get(x.id)!.plugin,
                  ...(x.s.providerMessageId ? { providerMessageId: x.s.providerMessageId } : {}),
                  ...(x.s.reason ? { reason: x.s.reason } : {}),
                  ...(x.s.errorCode || x.s.errorMessage
                    ? {
                        error: {
                          code: x.s.errorCode,
                          message: x.s.errorMessage,
                          retryable: x.s.retryable ?? false,
                        },
                      }
                    : {}),
                  ...x.s.detail,
                }),
              ),
            ],
          );
          // A provider failing a message it had accepted means it was sent, even if that callback overtook our own "sent".
          const overtaken = changed.filter(
            (c) => c.to === 'failed' && (c.from === 'pending' || c.from === 'queued'),
          );
          await bumpStats(tx, [
            ...bumpsFor(changed),
            ...overtaken.map((c) => ({ id: c.id, metric: 'sent', reason: null })),
          ]);
        }
        const disable = round.filter((x) => x.s.disableContact);
        if (disable.length > 0) {
          await tx.query(
            `UPDATE contacts c SET disabled_at = now(), disabled_reason = v.reason, updated_at = now()
               FROM unnest($1::uuid[], $2::text[]) AS v(delivery_id, reason) JOIN deliveries d ON d.id = v.delivery_id
              WHERE c.id = d.contact_id AND c.disabled_at IS NULL`,
            [disable.map((x) => x.id), disable.map((x) => x.s.disableContact)],
          );
        }
        for (const x of moved) {
          const c = byId.get(x.id)!;
          if (x.s.optOut && c.userId)
            await optOut(tx, {
              appId: c.appId,
              userId: c.userId,
              channel: c.channel,
              category: '*',
              source: x.s.optOut,
            });
        }
        const at = new Date().toISOString();
        for (const c of changed) {
          this.metrics.step(c.channel, c.plugin, c.to);
          emitted.push({
            id: `${c.id}.${c.to}`,
            type: c.to as StatusEvent['type'],
            at,
            appId: c.appId,
            deliveryId: c.id,
            notificationId: c.notificationId,
            userId: c.externalUserId,
            channel: c.channel,
            plugin: c.plugin,
            providerMessageId: c.providerMessageId,
            reason: c.to === 'failed' ? c.reason : null,
            errorCode: c.to === 'failed' ? c.errorCode : null,
            errorMessage: c.to === 'failed' ? c.errorMessage : null,
          });
        }
      }
    });
    try {
      this.events.emit(emitted);
    } catch (error) {
      this.log.warn(`status listener failed: ${(error as Error).message}`);
    }
    return results;
  }

  /** Delivery ids for steps that only know the provider's message id (one query for the batch). */
  private async resolve(steps: TrackedStep[]): Promise<(string | null)[]> {
    const pmids = [
      ...new Set(steps.filter((s) => !s.deliveryId && s.providerMessageId).map((s) => s.providerMessageId!)),
    ];
    const known = new Map<string, string>();
    if (pmids.length > 0) {
      const found: { id: string; pmid: string }[] = await this.db.query(
        'SELECT id, provider_message_id AS pmid FROM deliveries WHERE provider_message_id = ANY($1::text[])',
        [pmids],
      );
      for (const f of found) known.set(f.pmid, f.id);
    }
    const direct = steps.filter((s) => s.deliveryId).map((s) => s.deliveryId!);
    const existing = new Set<string>();
    if (direct.length > 0) {
      const found: { id: string }[] = await this.db.query(
        'SELECT id FROM deliveries WHERE id = ANY($1::uuid[])',
        [[...new Set(direct)]],
      );
      for (const f of found) existing.add(f.id);
    }
    return steps.map((s) =>
      s.deliveryId
        ? existing.has(s.deliveryId)
          ? s.deliveryId
          : null
        : (known.get(s.providerMessageId ?? '') ?? null),
    );
  }
}
