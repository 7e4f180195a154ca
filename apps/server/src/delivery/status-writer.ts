import type { DeliveryOutcome, DeliveryRecord, DeliveryRecords, DeliveryReporter } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { storable, storableJson } from '../common/storable';
import { Batcher } from '../database/batcher';
import { isRefusedValue } from '../database/refused-value';
import type { DeliveryStatus } from '../deliveries/delivery-status';
import {
  disableContacts,
  type OutcomeHistory,
  type OutcomeStatus,
  type OutcomeUpdate,
  readSendRecords,
  recordOutcomes,
} from '../deliveries/delivery-store';
import { type RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import { mayMove } from '../deliveries/transitions';
import { PluginRegistry } from '../plugins/plugin-registry';

interface Row extends OutcomeUpdate {
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

/** The status an outcome leaves its delivery in: a retry keeps it queued. */
const resulting = (status: OutcomeStatus): DeliveryStatus => (status === 'retrying' ? 'queued' : status);

/**
 * Whether `next`, a later outcome of the same delivery in one batch, replaces `kept` in the
 * UPDATE: when the transition table lets a worker move from `kept`'s status to `next`'s, or it is
 * the same step again (the newest attempt, provider id and error win). The batch thus ends where
 * the outcomes applied one at a time would: a late retry never overwrites `sent`, a failure
 * after `sent` is kept, nothing follows a cancel. The database checks the move once more against
 * the row's current status.
 */
function replaces(kept: Row, next: Row): boolean {
  return next.status === kept.status || mayMove('outcome', resulting(kept.status), resulting(next.status));
}

/** A worker outcome as the step-recorded event carries it. */
function stepOf(o: DeliveryOutcome, r: Row): RecordedStep {
  return {
    id: `${o.job.deliveryId}.${r.status}`,
    step: r.status,
    writer: 'outcome',
    at: o.at.toISOString(),
    appId: o.job.appId,
    deliveryId: o.job.deliveryId,
    notificationId: o.job.notificationId,
    userId: o.job.userId ?? null,
    channel: o.job.channel,
    plugin: o.job.plugin,
    providerMessageId: o.type === 'sent' ? (o.providerMessageId ?? null) : null,
    reason: r.reason,
    errorCode: o.type === 'failed' ? (o.error.code ?? null) : null,
    errorMessage: o.type === 'failed' ? o.error.message : null,
  };
}

/**
 * The host side of the plugin contract: records outcomes durably, many at a time (one statement
 * per batch, deliveries/delivery-store.ts), then emits them as recorded steps (metrics, status
 * webhooks). It is also the send gate's durable record (DeliveryRecords): one read per batch of
 * jobs about to send. Invalid addresses disable the contact (APNs: only if it was not
 * re-registered since).
 */
@Injectable()
export class StatusWriter implements DeliveryReporter, DeliveryRecords {
  private readonly batcher: Batcher<DeliveryOutcome, undefined>;
  /** Loaded plugins without callbacks: nothing looks their provider ids up (record-outcomes.ts). */
  private readonly withoutCallbacks: string[];

  constructor(
    private readonly db: DataSource,
    private readonly steps: StepRecorded,
    plugins: PluginRegistry,
  ) {
    this.withoutCallbacks = plugins.loaded.filter((l) => !l.plugin.callbacks).map((l) => l.plugin.name);
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
    const rows = await readSendRecords(this.db, deliveryIds);
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
    // One row per delivery for the UPDATE (the latest the table lets follow), every row for the history.
    const latest = new Map<string, Row>();
    for (const r of rows) {
      const seen = latest.get(r.id);
      if (!seen || replaces(seen, r)) latest.set(r.id, r);
    }
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
    const updates: OutcomeUpdate[] = [...latest.values()].map((r) => ({
      id: r.id,
      status: r.status,
      reason: r.reason,
      attempt: r.attempt,
      // Provider-given text may hold U+0000, which PostgreSQL cannot store (storable.ts).
      providerMessageId: storable(r.providerMessageId),
      errorCode: storable(r.errorCode),
      errorMessage: storable(r.errorMessage),
    }));
    const logged: OutcomeHistory[] = history.map((r) => ({
      id: r.id,
      status: r.status,
      attempt: r.attempt,
      detailJson: storableJson({ ...r.detail, reason: r.reason ?? undefined }),
    }));
    if (invalid.length === 0) {
      await recordOutcomes(this.db, updates, logged, this.withoutCallbacks); // one statement: atomic without BEGIN/COMMIT
    } else {
      await this.db.transaction(async (tx) => {
        await recordOutcomes(tx, updates, logged, this.withoutCallbacks);
        await disableContacts(
          tx,
          invalid.map((o) => ({
            id: o.job.address.contactId!,
            reason: o.error.addressReason ?? 'invalid',
            since: o.error.invalidSince ?? null,
          })),
        );
      });
    }
    // Every outcome of the batch, also one the table refused (a late `sent`): listeners de-duplicate on the step id.
    this.steps.emit(rows.map((r, i) => stepOf(outcomes[i]!, r)));
    return outcomes.map(() => undefined);
  }
}
