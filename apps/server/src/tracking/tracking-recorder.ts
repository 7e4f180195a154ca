import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { isRefusedValue } from '../database/refused-value';
import type { DeliveryStatus } from '../deliveries/delivery-status';
import {
  disableContactsOf,
  findTracked,
  recordTrackedRound,
  type TrackedChange,
} from '../deliveries/delivery-store';
import { type RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import { optOut } from '../preferences/opt-out';

/** What a step reported after the send may say. */
export type TrackedStatus = Extract<
  DeliveryStatus,
  'sent' | 'delivered' | 'opened' | 'clicked' | 'failed' | 'expired'
>;

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

/**
 * Records delivered / opened / clicked / failed steps, many at a time: one lookup, one UPDATE,
 * one event INSERT and one rollup upsert per batch. A step that is not a move forward (the same
 * callback twice, a late `sent` after `delivered`) changes nothing and logs nothing.
 */
@Injectable()
export class TrackingRecorder {
  private readonly batcher: Batcher<TrackedStep, StepResult>;

  constructor(
    private readonly db: DataSource,
    private readonly steps: StepRecorded,
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
    const emitted: RecordedStep[] = [];
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
        const changed = await recordTrackedRound(
          tx,
          round.map((x) => ({
            id: x.id,
            status: x.s.status,
            reason: x.s.reason ?? (x.s.status === 'failed' ? 'permanent' : null),
            errorCode: x.s.errorCode ?? null,
            errorMessage: x.s.errorMessage ?? null,
            providerMessageId: x.s.providerMessageId ?? null,
            detail: (c: TrackedChange) =>
              JSON.stringify({
                source: x.s.source,
                plugin: c.plugin,
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
          })),
        );
        const byId = new Map(changed.map((c) => [c.id, c]));
        const moved = round.filter((x) => byId.has(x.id));
        for (const x of moved) results[x.i] = 'changed';
        const disable = round.filter((x) => x.s.disableContact);
        if (disable.length > 0) {
          await disableContactsOf(
            tx,
            disable.map((x) => ({ deliveryId: x.id, reason: x.s.disableContact! })),
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
          emitted.push({
            id: `${c.id}.${c.to}`,
            step: c.to,
            writer: 'tracking',
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
    this.steps.emit(emitted);
    return results;
  }

  /** Delivery ids for steps that only know the provider's message id (one query for the batch). */
  private async resolve(steps: TrackedStep[]): Promise<(string | null)[]> {
    const pmids = [
      ...new Set(steps.filter((s) => !s.deliveryId && s.providerMessageId).map((s) => s.providerMessageId!)),
    ];
    const direct = [...new Set(steps.filter((s) => s.deliveryId).map((s) => s.deliveryId!))];
    const { existing, byProviderId: known } = await findTracked(this.db, direct, pmids);
    return steps.map((s) =>
      s.deliveryId
        ? existing.has(s.deliveryId)
          ? s.deliveryId
          : null
        : (known.get(s.providerMessageId ?? '') ?? null),
    );
  }
}
