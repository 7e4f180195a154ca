import { batchJobId, DELIVERY_BATCH_SIZE } from '@clarion/plugin-sdk';
import type { DeliveryPlan } from '../deliveries/delivery-plan';

/**
 * Puts deliveries due now into batch jobs: those of one plugin and priority, up to `size` a job,
 * each job named after its first delivery. Each delivery names its batch (`job.batch`, stored with
 * the row), so the queue reconciler knows which job carries it. A held delivery (quiet hours, a
 * deferring cap) keeps a job of its own, due at its own time, and so does one whose plugin is not
 * `batchable` (a rate-limited queue). Used before the rows are written: for a fan-out chunk, and
 * across the items of one `POST /v1/notifications/batch` (its batches fill over several calls).
 */
export class BatchAllocator {
  private readonly open = new Map<string, { id: string; count: number }>();

  constructor(
    private readonly batchable: (plugin: string) => boolean = () => true,
    private readonly size = DELIVERY_BATCH_SIZE,
  ) {}

  assign(plans: DeliveryPlan[]): void {
    for (const p of plans) {
      if (!p.job || p.hold || !this.batchable(p.job.plugin)) continue;
      const key = `${p.job.plugin}\u0000${p.job.priority}`;
      let batch = this.open.get(key);
      if (!batch || batch.count >= this.size) {
        batch = { id: batchJobId(p.job.deliveryId), count: 0 };
        this.open.set(key, batch);
      }
      p.job.batch = batch.id;
      batch.count++;
    }
  }
}

/** One fan-out chunk's batches (see BatchAllocator). */
export function assignBatches(
  plans: DeliveryPlan[],
  batchable?: (plugin: string) => boolean,
  size?: number,
): void {
  new BatchAllocator(batchable, size).assign(plans);
}
