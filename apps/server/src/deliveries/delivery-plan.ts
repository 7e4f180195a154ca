import type { DeliveryJob } from '@clarion/plugin-sdk';
import type { InitialStatus } from './delivery-status';

/** One delivery the planner decided on: to be queued (with its job) or recorded as suppressed (with a reason). */
export interface DeliveryPlan {
  id: string;
  userId: string | null;
  contactId: string | null;
  channel: string;
  plugin: string | null;
  status: InitialStatus;
  reason: string | null;
  job: DeliveryJob | null;
  /** Queued with a delay until `until` (quiet hours, a deferring cap); `reason` says which. */
  hold?: { until: string; reason: 'quiet_hours' | 'rate_limit_deferred' };
  /** Original URLs behind the delivery's tracking links (click tracking). */
  links?: string[];
}
