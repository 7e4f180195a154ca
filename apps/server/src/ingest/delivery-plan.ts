import type { DeliveryJob } from '@clarion/plugin-sdk';

export type DeliveryStatus =
  | 'pending'
  | 'queued'
  | 'sent'
  | 'delivered'
  | 'opened'
  | 'clicked'
  | 'failed'
  | 'suppressed'
  | 'expired'
  | 'canceled';

/** One delivery the planner decided on: to be queued (with its job) or recorded as suppressed (with a reason). */
export interface DeliveryPlan {
  id: string;
  userId: string | null;
  contactId: string | null;
  channel: string;
  plugin: string | null;
  status: 'pending' | 'suppressed';
  reason: string | null;
  job: DeliveryJob | null;
  /** Queued with a delay until `until` (quiet hours, a deferring cap); `reason` says which. */
  hold?: { until: string; reason: 'quiet_hours' | 'rate_limit_deferred' };
  /** Original URLs behind the delivery's tracking links (click tracking). */
  links?: string[];
}
