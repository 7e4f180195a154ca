import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../ingest/delivery-plan';
import { type PlanContext, planRecipient } from '../ingest/planner';

const SUPPRESSED = new Set(['template_error', 'content_too_large']);

/**
 * Fan-out plans users after the 202, so a render error for one user (an attribute their profile
 * lacks) cannot be a 422 any more: that user gets one suppressed delivery with reason
 * `template_error` (or `content_too_large`, content rendered past its channel's limit) instead of
 * failing, and endlessly retrying, the whole audience.
 */
export function planOrSuppress(ctx: PlanContext, recipient: Recipient): DeliveryPlan[] {
  try {
    return planRecipient(ctx, recipient);
  } catch (error) {
    if (!(error instanceof ApiError && SUPPRESSED.has(error.code))) throw error;
    return [
      {
        id: newId(),
        userId: recipient.userId,
        contactId: null,
        channel: '*',
        plugin: null,
        status: 'suppressed',
        reason: error.code,
        job: null,
      },
    ];
  }
}
