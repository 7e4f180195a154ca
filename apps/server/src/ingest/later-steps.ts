import { durationMs } from '../common/duration';
import type { Recipient } from '../contacts/recipient';
import type { WaitingStep } from '../deliveries/delivery-store';
import type { NotificationRequest } from '../templates/notification-request';

/**
 * A notification given as `steps` is planned at accept time as if its `channels` were the first
 * step's channel alone; the later steps wait in PostgreSQL (escalation/ plans them when due).
 */
export function firstStepRequest(request: NotificationRequest): NotificationRequest {
  const first = request.steps?.[0];
  return first ? { ...request, channels: [first.channel] } : request;
}

/**
 * The waiting rows of the later steps, one per step × known user, each due `after` the moment
 * the notification itself is due (its sendAt, or now). Unknown users get none (no user row).
 */
export function laterSteps(
  request: NotificationRequest,
  notificationId: string,
  appId: string,
  recipients: Iterable<Recipient>,
  acceptedAt: Date,
): WaitingStep[] {
  const steps = request.steps ?? [];
  if (steps.length < 2) return [];
  const start = Math.max(acceptedAt.getTime(), request.sendAt ? Date.parse(request.sendAt) : 0);
  const out: WaitingStep[] = [];
  for (const r of recipients)
    steps.forEach((s, i) => {
      if (i === 0) return;
      out.push({
        notificationId,
        appId,
        userId: r.userId,
        step: i,
        channel: s.channel,
        dueAt: new Date(start + (durationMs(s.after ?? '') ?? 0)).toISOString(),
        unless: s.unless ?? [],
      });
    });
  return out;
}
