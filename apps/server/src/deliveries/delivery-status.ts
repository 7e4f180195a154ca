/**
 * Every status a delivery row can hold (`deliveries.status`). A delivery starts `pending` (or
 * `suppressed`, when the planner dropped it), is `queued` once its job is on a plugin queue (the
 * request path writes it `queued` at once: transitions.ts, ENTRIES), and
 * ends `sent` and then, as the provider and the user report, `delivered` → `opened` → `clicked`;
 * or `failed`, `expired`, `canceled`. transitions.ts says which step may follow which.
 */
export const DELIVERY_STATUSES = [
  'pending',
  'queued',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'failed',
  'expired',
  'suppressed',
  'canceled',
] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The planner's decision for a delivery. The request path stores a `pending` one that it enqueues
 * right away as `queued` (transitions.ts, ENTRIES).
 */
export type InitialStatus = Extract<DeliveryStatus, 'pending' | 'suppressed'>;

/**
 * Steps that appear only in a delivery's history (`delivery_events.status`), never as its status:
 * `held` (queued with a delay: quiet hours, a deferring cap), `retrying` (an attempt failed, the job
 * runs again), `rerouted` (handed to the next provider of its chain), `redriven` (sent again from
 * the dead-delivery list).
 */
export type HistoryOnlyStep = 'held' | 'retrying' | 'rerouted' | 'redriven';

/** A row of `delivery_events.status`. */
export type DeliveryStep = DeliveryStatus | HistoryOnlyStep;

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(value);
}
