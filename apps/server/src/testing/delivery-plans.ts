import type { DeliveryJob, Priority } from '@clarion/plugin-sdk';
import { newId } from '../common/ids';
import type { DeliveryPlan } from '../deliveries/delivery-plan';

/** A push delivery planned for `plugin`, due now or `held` for an hour (quiet hours). */
export function plan(plugin: string, priority: Priority = 'normal', held = false): DeliveryPlan {
  const id = newId();
  const job: DeliveryJob = {
    deliveryId: id,
    notificationId: 'n',
    appId: 'a',
    channel: 'push',
    plugin,
    address: { kind: 'device', contactId: 'c', platform: 'android', token: 't' },
    content: { title: 'hi' },
    priority,
    acceptedAt: new Date().toISOString(),
  };
  return {
    id,
    userId: 'u',
    contactId: 'c',
    channel: 'push',
    plugin,
    status: 'pending',
    reason: null,
    job,
    ...(held
      ? { hold: { until: new Date(Date.now() + 3600_000).toISOString(), reason: 'quiet_hours' as const } }
      : {}),
  };
}
