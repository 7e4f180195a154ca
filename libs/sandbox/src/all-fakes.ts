import type { Fake } from './fake';
import { messagingFakes } from './messaging';
import { pushFakes } from './push';
import { webhookFake } from './webhook/webhook-fake';

/** Test-only credentials the fakes accept and the dev mode hands the plugins. Never real secrets. */
export const SANDBOX_WEBHOOK_SECRET = 'sandbox-webhook-secret';

/** Every fake the sandbox knows, for dev mode and the benchmark. */
export function allFakes(): Fake[] {
  return [webhookFake({ secret: SANDBOX_WEBHOOK_SECRET }), ...pushFakes(), ...messagingFakes()];
}
