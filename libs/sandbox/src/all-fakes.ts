import type { Fake } from './fake';
import { webhookFake } from './webhook/webhook-fake';

/** Test-only credentials the fakes accept and the dev mode hands the plugins. Never real secrets. */
export const SANDBOX_WEBHOOK_SECRET = 'sandbox-webhook-secret';

/**
 * Every fake the sandbox knows. The channel issues add theirs here (APNs, FCM, Web Push,
 * Twilio, Vonage, SendGrid, Mailchimp, SMTP).
 */
export function allFakes(): Fake[] {
  return [webhookFake({ secret: SANDBOX_WEBHOOK_SECRET })];
}
