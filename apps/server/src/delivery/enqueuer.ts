import { type DeliveryJob, deliveryJobOptions } from '@clarion/plugin-sdk';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { markQueued } from '../deliveries/delivery-store';
import { type RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import { PluginRegistry } from '../plugins/plugin-registry';
import { QueueRegistry } from './queue-registry';

export interface EnqueueItem {
  job: DeliveryJob;
  delayMs: number;
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
 * Puts deliveries on their plugin queues with addBulk (job id = delivery id, so repeating is
 * harmless), then marks them queued in one statement. If Redis is unreachable the deliveries
 * simply stay `pending` in PostgreSQL and the relay enqueues them when Redis is back.
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

  /** Resolves true once queued, false if Redis refused (the relay will retry). Never rejects. */
  enqueue(items: EnqueueItem[]): Promise<boolean[]> {
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
          await this.queues.forPlugin(plugin).addBulk(
            list.map((i) => ({
              name: 'deliver',
              data: i.job,
              opts: deliveryJobOptions(i.job, processor, i.delayMs),
            })),
          );
          for (const i of list) ok.add(i.job.deliveryId);
        } catch (error) {
          this.log.warn(
            `could not enqueue ${list.length} deliveries for ${plugin} (left pending for the relay): ${(error as Error).message}`,
          );
        }
      }),
    );
    const queued = items.filter((i) => ok.has(i.job.deliveryId));
    if (queued.length > 0) {
      try {
        await markQueued(
          this.db,
          queued.map((i) => i.job.deliveryId),
        );
        // Every delivery put on a queue, also one whose worker already recorded its outcome (the
        // statement then left it alone): like the worker's outcomes, listeners count what was done.
        const at = new Date().toISOString();
        this.steps.emit(queued.map((i) => queuedStep(i.job, at)));
      } catch (error) {
        // Jobs are on the queue; a status left `pending` only makes the relay re-add them (a no-op by job id).
        this.log.warn(
          `queued ${queued.length} deliveries but could not mark them: ${(error as Error).message}`,
        );
      }
    }
    return items.map((i) => ok.has(i.job.deliveryId));
  }
}
