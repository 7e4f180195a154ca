import {
  BATCH_JOB_NAME,
  batchJobOptions,
  DELIVERY_JOB_NAME,
  type DeliveryJob,
  deliveryJobOptions,
  type ProcessorSettings,
} from '@clarion/plugin-sdk';
import { Injectable, Logger } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { markQueued } from '../deliveries/delivery-store';
import { type RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import { PluginRegistry } from '../plugins/plugin-registry';
import { QueueRegistry } from './queue-registry';

export interface EnqueueItem {
  job: DeliveryJob;
  delayMs: number;
  /**
   * The row is `queued` already: the request path writes it so (insert-deliveries.ts, `queuedNow`),
   * the queue reconciler re-adds only `queued` rows. Nothing to mark: the pending → queued UPDATE
   * would change nothing and cost a round trip per batch.
   */
  writtenQueued?: boolean;
}

export { delayUntil } from '../common/delay-until';

function queuedStep(job: DeliveryJob, at: string): RecordedStep {
  return {
    id: `${job.deliveryId}.queued`,
    step: 'queued',
    writer: 'enqueue',
    at,
    appId: job.appId,
    deliveryId: job.deliveryId,
    notificationId: job.notificationId,
    userId: job.userId ?? null,
    channel: job.channel,
    plugin: job.plugin,
    providerMessageId: null,
    reason: null,
    errorCode: null,
    errorMessage: null,
  };
}

/**
 * The jobs for one plugin's items: a job per batch (the deliveries that name it, due now), a job of
 * its own for every other delivery (one naming a batch but due later goes alone).
 */
function jobsToAdd(list: EnqueueItem[], processor: ProcessorSettings | undefined) {
  const singles: { name: string; data: DeliveryJob; opts: JobsOptions }[] = [];
  const batches = new Map<string, DeliveryJob[]>();
  for (const i of list) {
    const batch = i.delayMs === 0 ? i.job.batch : undefined;
    if (batch === undefined) {
      const { batch: _none, ...job } = i.job;
      singles.push({
        name: DELIVERY_JOB_NAME,
        data: job,
        opts: deliveryJobOptions(job, processor, i.delayMs),
      });
      continue;
    }
    const carried = batches.get(batch);
    if (carried) carried.push(i.job);
    else batches.set(batch, [i.job]);
  }
  return [
    ...singles,
    ...[...batches.values()].map((deliveries) => ({
      name: BATCH_JOB_NAME,
      data: { deliveries },
      opts: batchJobOptions({ deliveries }, processor),
    })),
  ];
}

/** Who picks up deliveries Redis refused: the relay's pending sweep, or the queue reconciler for rows written `queued`. */
function leftFor(items: EnqueueItem[]): string {
  const written = items.filter((i) => i.writtenQueued).length;
  const parts: string[] = [];
  if (written < items.length) parts.push(`${items.length - written} left pending for the relay`);
  if (written > 0) parts.push(`${written} left queued for the queue reconciler`);
  return parts.join(', ');
}

/**
 * Puts deliveries on their plugin queues with addBulk (job id = delivery id, so repeating is
 * harmless), then marks those still `pending` queued in one statement (fan-out chunks, the relay's
 * pending deliveries, reroutes, redrives, escalation steps); rows written `queued` (the request
 * path, the reconciler's re-adds) are not touched. If Redis is unreachable a `pending` delivery
 * stays `pending` and the relay's pending sweep enqueues it when Redis is back; a delivery written
 * `queued` stays `queued` and the queue reconciler, finding no job for it after the grace period,
 * re-adds it (relay/queue-reconciler.ts).
 */
@Injectable()
export class Enqueuer {
  private readonly log = new Logger('enqueuer');
  private readonly batcher: Batcher<EnqueueItem, boolean>;

  constructor(
    private readonly db: DataSource,
    private readonly queues: QueueRegistry,
    private readonly registry: PluginRegistry,
    private readonly steps: StepRecorded,
  ) {
    this.batcher = new Batcher((items) => this.flush(items), {
      maxItems: 1000,
      maxWaitMs: 2,
      concurrency: 4,
    });
  }

  /**
   * Resolves true once queued, false if Redis refused (the relay will retry). Never rejects.
   * Deliveries that name a batch job (a fan-out chunk's, ingest/delivery-batches.ts) are added
   * here and now, every batch whole: through the batcher a batch could be cut in two flushes, and
   * the second add of its job id would be a no-op that left its deliveries on no queue.
   */
  enqueue(items: EnqueueItem[]): Promise<boolean[]> {
    if (items.some((i) => i.job.batch !== undefined)) return this.flush(items);
    return Promise.all(items.map((i) => this.batcher.submit(i)));
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async flush(items: EnqueueItem[]): Promise<boolean[]> {
    const byPlugin = Map.groupBy(items, (item) => item.job.plugin);
    const ok = new Set<string>();
    await Promise.all(
      [...byPlugin.entries()].map(async ([plugin, list]) => {
        try {
          const processor = this.registry.get(plugin)?.processor;
          await this.queues.forPlugin(plugin).addBulk(jobsToAdd(list, processor));
          for (const i of list) ok.add(i.job.deliveryId);
        } catch (error) {
          this.log.warn(
            `could not enqueue ${list.length} deliveries for ${plugin} (${leftFor(list)}): ${(error as Error).message}`,
          );
        }
      }),
    );
    const queued = items.filter((i) => ok.has(i.job.deliveryId));
    // Every delivery put on a queue, also one whose worker already recorded its outcome (the
    // statement then left it alone): like the worker's outcomes, listeners count what was done.
    const written = queued.filter((i) => i.writtenQueued);
    if (written.length > 0) this.emitQueued(written);
    const toMark = queued.filter((i) => !i.writtenQueued);
    if (toMark.length > 0) {
      try {
        await markQueued(
          this.db,
          toMark.map((i) => i.job.deliveryId),
        );
        this.emitQueued(toMark);
      } catch (error) {
        // Jobs are on the queue; a status left `pending` only makes the relay re-add them (a no-op by job id).
        this.log.warn(
          `queued ${toMark.length} deliveries but could not mark them: ${(error as Error).message}`,
        );
      }
    }
    return items.map((i) => ok.has(i.job.deliveryId));
  }

  private emitQueued(items: EnqueueItem[]): void {
    const at = new Date().toISOString();
    this.steps.emit(items.map((i) => queuedStep(i.job, at)));
  }
}
