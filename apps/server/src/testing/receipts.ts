import type { Sandbox } from '@clarion/sandbox';

export interface Receipt {
  deliveryId: string;
  notificationId: string;
  /** Webhook name the request was posted to (`/webhook/<to>`). */
  to: string;
  /** Requests the receiver answered 2xx: what the user actually got. More than 1 is a double send. */
  accepted: number;
  /** Requests whose sender went away before the answer (a killed worker): not a delivery. */
  aborted: number;
  /** Requests answered with an error the receiver was told to give. */
  refused: number;
}

/**
 * What the sandbox webhook receiver got, per delivery id (the webhook body's `id`, also sent
 * as the `clarion-delivery-id` header): the receiver-side count that proves "exactly once".
 */
export function receiptsById(
  sandbox: Sandbox,
  filter: { notificationId?: string } = {},
): Map<string, Receipt> {
  const out = new Map<string, Receipt>();
  for (const r of sandbox.recorder.list({ provider: 'webhook' })) {
    const body = r.payload as { id?: string; notificationId?: string } | undefined;
    if (!body?.id || !body.notificationId) continue;
    if (filter.notificationId !== undefined && body.notificationId !== filter.notificationId) continue;
    const receipt = out.get(body.id) ?? {
      deliveryId: body.id,
      notificationId: body.notificationId,
      to: r.to,
      accepted: 0,
      aborted: 0,
      refused: 0,
    };
    if (r.outcome === 'accepted') receipt.accepted++;
    else if (r.outcome === 'aborted') receipt.aborted++;
    else receipt.refused++;
    out.set(body.id, receipt);
  }
  return out;
}
