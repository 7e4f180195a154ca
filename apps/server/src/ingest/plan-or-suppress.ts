import { RenderError } from '../common/errors/template-errors';
import { newId } from '../common/ids';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { type PlanContext, planRecipient } from './planner';

/**
 * Fan-out plans users after the 202, so a render failure for one user (an attribute their profile
 * lacks, content rendered past its channel's limit) cannot refuse the request: that user gets one
 * suppressed delivery whose reason is the error's code (`template_error` or `content_too_large`)
 * instead of failing, and endlessly retrying, the whole audience. Any other error fails the job.
 */
export function planOrSuppress(ctx: PlanContext, recipient: Recipient): DeliveryPlan[] {
  try {
    return planRecipient(ctx, recipient);
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
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
