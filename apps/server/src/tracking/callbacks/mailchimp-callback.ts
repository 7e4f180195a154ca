import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { TrackedStep } from '../tracking-recorder';

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
export function mandrillStep(e: MandrillEvent): TrackedStep | null {
  const deliveryId = typeof e.msg?.metadata?.deliveryId === 'string' ? e.msg.metadata.deliveryId : undefined;
  const base = {
    deliveryId,
    providerMessageId: e.msg?._id ?? e._id,
    source: 'mailchimp',
    detail: { providerEvent: e.event },
  };
  if (!base.deliveryId && !base.providerMessageId) return null;
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
