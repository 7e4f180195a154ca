import {
  CallbackNotConfigured,
  CallbackPayloadError,
  defineCallbacks,
  type ReceiptStep,
} from '@clarion/plugin-sdk';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { z } from 'zod';

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
export function sendgridStep(e: SendgridEvent): ReceiptStep | null {
  const providerMessageId = messageId(e);
  if (!e.deliveryId && !providerMessageId) return null;
  const base = {
    ...(e.deliveryId ? { deliveryId: e.deliveryId } : {}),
    ...(providerMessageId ? { providerMessageId } : {}),
    detail: { providerEvent: e.event },
  };
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
        ...(e.status ? { errorCode: e.status } : {}),
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

/** SendGrid's Event Webhook at `/v1/callbacks/sendgrid`: signed JSON batches of events. */
export const sendgridCallbacks = defineCallbacks({
  settings: z.object({
    /** The Event Webhook verification key (base64 DER, as SendGrid's settings page shows it). */
    callbackPublicKey: z.string().min(1).optional(),
    /** A batch signed further than this from now is refused: no replays. */
    callbackMaxAgeSeconds: z.coerce.number().int().positive().default(300),
  }),
  verify(request, { settings }) {
    if (!settings.callbackPublicKey)
      throw new CallbackNotConfigured(
        'no SendGrid verification key is configured, so no callback can be verified',
      );
    return verifySendgrid(
      settings.callbackPublicKey,
      request.rawBody,
      request.headers['x-twilio-email-event-webhook-signature'],
      request.headers['x-twilio-email-event-webhook-timestamp'],
      settings.callbackMaxAgeSeconds,
    );
  },
  parse(request) {
    const events = sendgridEvents.safeParse(request.body);
    if (!events.success) throw new CallbackPayloadError('expected a JSON array of SendGrid events');
    return {
      steps: events.data.map(sendgridStep).filter((s): s is ReceiptStep => s !== null),
      received: events.data.length,
    };
  },
});
