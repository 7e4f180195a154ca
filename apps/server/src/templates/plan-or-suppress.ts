import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../ingest/delivery-plan';
import { type PlanContext, planRecipient } from '../ingest/planner';

/**
 * Fan-out plans users after the 202, so a render error for one user (an attribute their profile
 * lacks) cannot be a 422 any more: that user gets one suppressed delivery with reason
 * `template_error` instead of failing, and endlessly retrying, the whole audience.
 */
export function planOrSuppress(ctx: PlanContext, recipient: Recipient): DeliveryPlan[] {
  try {
    return planRecipient(ctx, recipient);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'template_error')) throw error;
    return [
      {
        id: newId(),
        userId: recipient.userId,
        contactId: null,
        channel: '*',
        plugin: null,
        status: 'suppressed',
        reason: 'template_error',
        job: null,
      },
    ];
  }
}
