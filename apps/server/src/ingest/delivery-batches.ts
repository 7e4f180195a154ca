import { batchJobId, DELIVERY_BATCH_SIZE } from '@clarion/plugin-sdk';
import type { DeliveryPlan } from '../deliveries/delivery-plan';

/**
 * Puts a fan-out chunk's deliveries due now into batch jobs: those of one plugin and priority, up
 * to `size` a job, each job named after its first delivery. Each job names its batch
 * (`job.batch`, stored with the row), so the queue reconciler knows which job carries it. A held
 * delivery (quiet hours, a deferring cap) keeps a job of its own, due at its own time, and so does
 * one whose plugin is not `batchable` (a rate-limited queue). Done before the rows are written.
 */
export function assignBatches(
  plans: DeliveryPlan[],
  batchable: (plugin: string) => boolean = () => true,
  size = DELIVERY_BATCH_SIZE,
): void {
  const open = new Map<string, { id: string; count: number }>();
  for (const p of plans) {
    if (!p.job || p.hold || !batchable(p.job.plugin)) continue;
    const key = `${p.job.plugin}\u0000${p.job.priority}`;
    let batch = open.get(key);
    if (!batch || batch.count >= size) {
      batch = { id: batchJobId(p.job.deliveryId), count: 0 };
      open.set(key, batch);
    }
    p.job.batch = batch.id;
    batch.count++;
  }
}
