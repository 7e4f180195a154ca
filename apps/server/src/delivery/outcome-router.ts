import type { DeliveryJob, DeliveryOutcome, DeliveryReporter } from '@clarion/plugin-sdk';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { deliveryOwners, reroute } from '../deliveries/delivery-store';
import { type RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import { PluginRegistry } from '../plugins/plugin-registry';
import { optOut } from '../preferences/opt-out';
import { Enqueuer } from './enqueuer';
import { StatusWriter } from './status-writer';

type Rerouted = Extract<DeliveryOutcome, { type: 'rerouted' }>;
type Failed = Extract<DeliveryOutcome, { type: 'failed' }>;

/** `next`, skipping providers of its chain this deployment no longer loads (config changed since it was planned). */
export function loadableNext(
  next: DeliveryJob,
  plugins: Pick<PluginRegistry, 'get'>,
): DeliveryJob | undefined {
  const [plugin, ...rest] = [next.plugin, ...(next.fallback ?? [])].filter(
    (name) => plugins.get(name) !== undefined,
  );
  if (plugin === undefined) return undefined;
  // A job of its own on the next queue, whatever carried it here (a plugin on an older SDK may pass its batch on).
  const { batch: _carriedBy, priorAttempts: _spent, ...own } = next;
  return { ...own, plugin, fallback: rest };
}

/** Twilio 21610 and the like: the number is fine, its owner replied STOP. */
export function isSmsStop(o: DeliveryOutcome): o is Failed {
  return (
    o.type === 'failed' &&
    o.job.channel === 'sms' &&
    o.reason === 'invalid_address' &&
    o.error.addressReason === 'opted_out'
  );
}

/** A hand-over as a recorded step: counted by the plugin that handed it on, with its cause as the reason. */
function reroutedStep(o: Rerouted): RecordedStep {
  return {
    id: `${o.job.deliveryId}.rerouted.${o.attempt}`,
    step: 'rerouted',
    writer: 'reroute',
    at: o.at.toISOString(),
    appId: o.job.appId,
    deliveryId: o.job.deliveryId,
    notificationId: o.job.notificationId,
    userId: o.job.userId ?? null,
    channel: o.job.channel,
    plugin: o.job.plugin,
    providerMessageId: null,
    reason: o.cause,
    errorCode: o.error?.code ?? null,
    errorMessage: o.error?.message ?? null,
  };
}

/**
 * The reporter the plugin workers talk to. Most outcomes go straight to the StatusWriter; two
 * need more before the job may complete:
 * - `rerouted` (provider fallback): the delivery row switches to the next plugin and its job, goes
 *   back to `pending` with a `rerouted` event, and is enqueued on the next plugin's queue. A crash
 *   after the commit leaves it `pending`, so the relay enqueues it; nothing is lost or doubled.
 * - an SMS STOP reply: the user is opted out of SMS (all categories) through the one opt-out write
 *   path, before the failure is recorded, so a crash in between retries the whole thing.
 */
@Injectable()
export class OutcomeRouter implements DeliveryReporter {
  private readonly log = new Logger('outcome-router');
  private readonly reroutes: Batcher<Rerouted, undefined>;
  private readonly stops: Batcher<Failed, undefined>;

  constructor(
    private readonly db: DataSource,
    private readonly writer: StatusWriter,
    private readonly enqueuer: Enqueuer,
    private readonly steps: StepRecorded,
    private readonly plugins: PluginRegistry,
  ) {
    this.reroutes = new Batcher((items) => this.flushReroutes(items), {
      maxItems: 1000,
      maxWaitMs: 5,
      concurrency: 2,
    });
    this.stops = new Batcher((items) => this.flushStops(items), {
      maxItems: 500,
      maxWaitMs: 5,
      concurrency: 1,
    });
  }

  async report(outcome: DeliveryOutcome): Promise<void> {
    if (outcome.type === 'rerouted') {
      const next = loadableNext(outcome.next, this.plugins);
      if (next) return this.reroutes.submit({ ...outcome, next });
      // The chain names only plugins this deployment no longer loads: the delivery ends here.
      return this.writer.report({
        type: 'failed',
        job: outcome.job,
        attempt: outcome.attempt,
        at: outcome.at,
        reason: outcome.error?.kind === 'permanent' ? 'configuration' : 'retries_exhausted',
        error: outcome.error ?? {
          kind: 'retryable',
          message: `circuit open and no loaded fallback provider (${outcome.next.plugin})`,
        },
      });
    }
    if (isSmsStop(outcome)) await this.stops.submit(outcome);
    return this.writer.report(outcome);
  }

  async drain(): Promise<void> {
    await this.reroutes.drain();
    await this.stops.drain();
    await this.writer.drain();
  }

  private async flushReroutes(items: Rerouted[]): Promise<undefined[]> {
    const ids = await reroute(
      this.db,
      items.map((o) => ({
        id: o.job.deliveryId,
        fromPlugin: o.job.plugin,
        toPlugin: o.next.plugin,
        jobJson: JSON.stringify(o.next),
        attempt: o.attempt,
        detailJson: JSON.stringify({
          plugin: o.job.plugin,
          to: o.next.plugin,
          cause: o.cause,
          ...(o.error ? { error: o.error } : {}),
        }),
      })),
    );
    const go = items.filter((o) => ids.has(o.job.deliveryId));
    this.steps.emit(go.map(reroutedStep));
    // Never rejects: a delivery Redis refused stays `pending` and the relay enqueues it.
    if (go.length > 0) await this.enqueuer.enqueue(go.map((o) => ({ job: o.next, delayMs: 0 })));
    return items.map(() => undefined);
  }

  private async flushStops(items: Failed[]): Promise<undefined[]> {
    const owners = await deliveryOwners(
      this.db,
      items.map((o) => o.job.deliveryId),
    );
    // STOP replies are rare (one per user, ever): one statement per user inside one transaction is fine.
    await this.db.transaction(async (tx) => {
      for (const o of owners)
        await optOut(tx, {
          appId: o.appId,
          userId: o.userId,
          channel: 'sms',
          category: '*',
          source: 'sms_stop',
        });
    });
    if (owners.length > 0) this.log.log(`opted ${owners.length} user(s) out of SMS after a STOP reply`);
    return items.map(() => undefined);
  }
}
