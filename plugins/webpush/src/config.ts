import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

const subject = z
  .string()
  .regex(/^(mailto:|https:)/, 'must be a mailto: or https: URI (push services reject others)');

export const webPushConfig = z
  .object({
    /** VAPID public key (base64url, uncompressed P-256): what browsers subscribe with. */
    vapidPublicKey: z.string().min(80).optional(),
    vapidPrivateKey: secret().optional(),
    /** Contact for push services: mailto:ops@example.com or an https: URL. */
    vapidSubject: subject.optional(),
    /** Extra CA certificate (PEM) to trust: the sandbox's self-signed one. */
    caPem: z.string().min(1).optional(),
    timeoutMs: z.coerce.number().int().positive().default(10_000),
    /** Keep-alive sockets per push service origin. */
    maxSockets: z.coerce.number().int().positive().default(64),
  })
  // Half a VAPID pair would start "healthy" and fail at the first send: the missing half is named at start.
  .superRefine((c, ctx) => {
    if (!c.vapidPublicKey === !c.vapidPrivateKey) return;
    const missing = c.vapidPublicKey ? 'vapidPrivateKey' : 'vapidPublicKey';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'a VAPID key pair needs both its public and private key',
    });
  });

/** Per-app VAPID keys: each product subscribes its browsers with its own public key. */
export const webPushAppConfig = z.object({
  vapidPublicKey: z.string().min(80).optional(),
  vapidPrivateKey: z.string().min(1).optional(),
  vapidSubject: subject.optional(),
});

export type WebPushConfig = z.infer<typeof webPushConfig>;
export type WebPushAppConfig = z.infer<typeof webPushAppConfig>;
