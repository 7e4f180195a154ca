import type { Fake } from './fake';
import { messagingFakes } from './messaging';
import { pushFakes } from './push';
import { webhookFake } from './webhook/webhook-fake';

/** Test-only credentials the fakes accept and the dev mode hands the plugins. Never real secrets. */
export const SANDBOX_WEBHOOK_SECRET = 'sandbox-webhook-secret';

/** Ports of the fakes with a listener of their own; unset: a free one. */
export interface FakePorts {
  apns?: number;
  fcm?: number;
  webpush?: number;
  smtp?: number;
}

/** Every fake the sandbox knows, for dev mode, compose and the benchmark. */
export function allFakes(ports: FakePorts = {}): Fake[] {
  return [webhookFake({ secret: SANDBOX_WEBHOOK_SECRET }), ...pushFakes(ports), ...messagingFakes(ports)];
}
