import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  CallbackNotConfigured,
  CallbackPayloadError,
  callbackParams,
  defineCallbacks,
  type ReceiptStep,
} from '@clarion/plugin-sdk';
import { z } from 'zod';

/** Mandrill's X-Mandrill-Signature: base64(HMAC-SHA1(key, url + each POST key and value, keys sorted)). */
export function mandrillSignature(key: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', key).update(data, 'utf8').digest('base64');
}

export function verifyMandrill(
  key: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature);
  const expected = Buffer.from(mandrillSignature(key, url, params));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export const mandrillEvents = z
  .array(
    z
      .object({
        event: z.string(),
        _id: z.string().optional(),
        url: z.string().optional(),
        msg: z
          .object({
            _id: z.string().optional(),
            metadata: z.record(z.string(), z.unknown()).nullish(),
            bounce_description: z.string().nullish(),
            diag: z.string().nullish(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough(),
  )
  .max(10_000);

type MandrillEvent = z.infer<typeof mandrillEvents>[number];

/** Maps one event; deferral/soft_bounce/unsub/whitelist/blacklist are no step of the lifecycle. */
export function mandrillStep(e: MandrillEvent): ReceiptStep | null {
  const deliveryId = typeof e.msg?.metadata?.deliveryId === 'string' ? e.msg.metadata.deliveryId : undefined;
  const providerMessageId = e.msg?._id ?? e._id;
  if (!deliveryId && !providerMessageId) return null;
  const base = {
    ...(deliveryId ? { deliveryId } : {}),
    ...(providerMessageId ? { providerMessageId } : {}),
    detail: { providerEvent: e.event },
  };
  switch (e.event) {
    case 'send':
      // Mandrill's "send": accepted by the recipient's mail server.
      return { ...base, status: 'delivered' };
    case 'open':
      return { ...base, status: 'opened' };
    case 'click':
      return { ...base, status: 'clicked', detail: { ...base.detail, ...(e.url ? { url: e.url } : {}) } };
    case 'hard_bounce':
      return {
        ...base,
        status: 'failed',
        reason: 'bounced',
        errorMessage: e.msg?.bounce_description ?? e.msg?.diag ?? 'hard bounce',
        disableContact: 'bounce',
      };
    case 'reject':
      return {
        ...base,
        status: 'failed',
        reason: 'rejected',
        errorMessage: 'rejected by Mailchimp Transactional',
      };
    case 'spam':
      return { ...base, status: 'delivered', disableContact: 'spam_report' };
    default:
      return null;
  }
}

/**
 * Mailchimp Transactional (Mandrill) webhooks at `/v1/callbacks/mailchimp`: a form post whose
 * `mandrill_events` is a JSON array. Mandrill checks the URL with HEAD when it is added (the
 * server answers that for every plugin with callbacks).
 */
export const mailchimpCallbacks = defineCallbacks({
  settings: z.object({
    /** The webhook key that signs X-Mandrill-Signature (Mandrill's webhook settings). */
    callbackKey: z.string().min(1).optional(),
  }),
  verify(request, { settings }) {
    if (!settings.callbackKey)
      throw new CallbackNotConfigured(
        'no Mailchimp Transactional webhook key is configured, so no callback can be verified',
      );
    return verifyMandrill(
      settings.callbackKey,
      request.headers['x-mandrill-signature'],
      request.url,
      callbackParams(request.body),
    );
  },
  parse(request) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(callbackParams(request.body).mandrill_events ?? '');
    } catch {
      parsed = undefined;
    }
    const events = mandrillEvents.safeParse(parsed);
    if (!events.success) throw new CallbackPayloadError('expected mandrill_events: a JSON array of events');
    return {
      steps: events.data.map(mandrillStep).filter((s): s is ReceiptStep => s !== null),
      received: events.data.length,
    };
  },
});
