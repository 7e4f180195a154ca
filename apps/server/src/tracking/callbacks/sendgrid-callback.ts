import { EventWebhook } from '@sendgrid/eventwebhook';
import { z } from 'zod';
import type { TrackedStep } from '../tracking-recorder';

const verifier = new EventWebhook();

/**
 * ECDSA P-256 over timestamp + raw body, with the key from SendGrid's settings page. The signed
 * timestamp (Unix seconds) must be within `maxAgeSeconds` of now, so a captured batch cannot be
 * replayed later.
 */
export function verifySendgrid(
  publicKey: string,
  rawBody: string | undefined,
  signature: string | undefined,
  timestamp: string | undefined,
  maxAgeSeconds: number,
  nowMs = Date.now(),
): boolean {
  if (!rawBody || !signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > maxAgeSeconds) return false;
  try {
    return verifier.verifySignature(
      verifier.convertPublicKeyToECDSA(publicKey),
      rawBody,
      signature,
      timestamp,
    );
  } catch {
    return false; // a malformed signature or key is simply not a valid signature
  }
}

export const sendgridEvents = z
  .array(
    z
      .object({
        event: z.string(),
        sg_message_id: z.string().optional(),
        deliveryId: z.string().optional(),
        reason: z.string().optional(),
        status: z.string().optional(),
        type: z.string().optional(),
        url: z.string().optional(),
      })
      .passthrough(),
  )
  .max(10_000);

type SendgridEvent = z.infer<typeof sendgridEvents>[number];

/** SendGrid's message id is the part of sg_message_id before the first dot (X-Message-Id). */
const messageId = (e: SendgridEvent) => e.sg_message_id?.split('.')[0];

/** Maps one event; processed/deferred/unsubscribe are no step of the lifecycle. */
export function sendgridStep(e: SendgridEvent): TrackedStep | null {
  const base = {
    deliveryId: e.deliveryId,
    providerMessageId: messageId(e),
    source: 'sendgrid',
    detail: { providerEvent: e.event },
  };
  if (!base.deliveryId && !base.providerMessageId) return null;
  switch (e.event) {
    case 'delivered':
      return { ...base, status: 'delivered' };
    case 'open':
      return { ...base, status: 'opened' };
    case 'click':
      return { ...base, status: 'clicked', detail: { ...base.detail, ...(e.url ? { url: e.url } : {}) } };
    case 'bounce': {
      // type "blocked" is a temporary refusal by the receiving server; "bounce" is the address.
      const hard = e.type !== 'blocked';
      return {
        ...base,
        status: 'failed',
        reason: hard ? 'bounced' : 'blocked',
        errorCode: e.status,
        errorMessage: e.reason ?? 'bounced',
        ...(hard ? { disableContact: 'bounce' } : {}),
      };
    }
    case 'dropped':
      return {
        ...base,
        status: 'failed',
        reason: 'dropped',
        errorMessage: e.reason ?? 'dropped by SendGrid',
      };
    case 'spamreport':
      // A spam report proves delivery, and the address must not be mailed again.
      return { ...base, status: 'delivered', disableContact: 'spam_report' };
    default:
      return null;
  }
}
