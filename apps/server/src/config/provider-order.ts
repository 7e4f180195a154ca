import { z } from 'zod';

/** Ordered providers per channel: the first sends, the next ones are its fallbacks. */
export type ProviderOrder = Record<string, string[]>;

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * CLARION_PROVIDERS: the server's default provider order for apps that set none, e.g.
 * `sms=twilio,vonage;email=sendgrid,smtp`. Channels are separated by `;`, providers by `,`.
 */
export const providerOrderSchema = z
  .string()
  .default('')
  .transform((value, ctx): ProviderOrder => {
    const out: ProviderOrder = {};
    for (const part of value
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [channel, list = ''] = part.split('=', 2).map((s) => s.trim());
      const names = list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!channel || !NAME.test(channel) || names.length === 0 || !names.every((n) => NAME.test(n))) {
        ctx.addIssue({
          code: 'custom',
          message: `"${part}" is not channel=provider,provider (e.g. sms=twilio,vonage;email=sendgrid,smtp)`,
        });
        return z.NEVER;
      }
      out[channel] = names;
    }
    return out;
  });
