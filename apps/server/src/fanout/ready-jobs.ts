import type { DeliveryPlan } from '../deliveries/delivery-plan';

/**
 * The jobs ready to run that `plans` add to each plugin's queue once enqueued: one per batch, one
 * per delivery outside a batch; held deliveries (quiet hours, deferring caps) wait delayed and do
 * not count, as in the backlog check. For a chunk still being written, so the check sees it.
 */
export function readyJobsByPlugin(plans: DeliveryPlan[]): Map<string, number> {
  const jobs = new Map<string, Set<string>>();
  for (const p of plans) {
    if (!p.job || p.hold) continue;
    const ids = jobs.get(p.job.plugin) ?? new Set<string>();
    ids.add(p.job.batch ?? p.job.deliveryId);
    jobs.set(p.job.plugin, ids);
  }
  return new Map([...jobs].map(([plugin, ids]) => [plugin, ids.size]));
}
