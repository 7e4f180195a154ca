import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

/** Environment values arrive as strings: "false" must mean false (z.coerce.boolean would say true). */
export const booleanish = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

/**
 * One APNs credential: token auth (a .p8 signing key, its key id and the team id) or certificate
 * auth (PEM certificate and key, or a base64 PKCS#12), plus the default topic (bundle id).
 */
const credentialFields = {
  keyId: z.string().min(1).optional(),
  teamId: z.string().min(1).optional(),
  /** Contents of the .p8 file (PEM). */
  signingKey: secret().optional(),
  /** Certificate auth: PEM certificate. */
  certificate: secret().optional(),
  /** Certificate auth: PEM private key of the certificate. */
  privateKey: secret().optional(),
  /** Certificate auth: base64 of a .p12 (instead of certificate + privateKey). */
  pfx: secret().optional(),
  passphrase: secret().optional(),
  /** The app's bundle id, sent as `apns-topic`. */
  topic: z.string().min(1).optional(),
  /** Apple's production gateway (true) or the development one (false). */
  production: booleanish.optional(),
};

type CredentialKey = keyof typeof credentialFields;

/**
 * A server credential given in part would start "healthy" and fail at the first send: token auth
 * needs all of signingKey, keyId and teamId; certificate auth needs the certificate and its key
 * (or a PKCS#12). Each missing key is named, so the start stops with the variable to set.
 */
function completeCredential(config: Partial<Record<CredentialKey, unknown>>, ctx: z.RefinementCtx): void {
  const missing = (keys: CredentialKey[], why: string) => {
    for (const key of keys) if (!config[key]) ctx.addIssue({ code: 'custom', path: [key], message: why });
  };
  const token = config.signingKey || config.keyId || config.teamId;
  if (token)
    missing(
      ['signingKey', 'keyId', 'teamId'],
      'token auth needs the .p8 signing key, its key id and the team id',
    );
  if ((config.certificate || config.privateKey) && !config.pfx && !token)
    missing(['certificate', 'privateKey'], 'certificate auth needs the PEM certificate and its private key');
  if (token && config.privateKey && !config.signingKey)
    ctx.addIssue({
      code: 'custom',
      path: ['privateKey'],
      message: 'is certificate auth; for token auth put the .p8 key in SIGNING_KEY instead',
    });
}

export const apnsConfig = z
  .object({
    ...credentialFields,
    /** Gateway host; default api.push.apple.com / api.sandbox.push.apple.com. Tests point it at the sandbox. */
    address: z.string().min(1).optional(),
    port: z.coerce.number().int().positive().max(65535).optional(),
    /** Extra CA certificate (PEM) to trust for the gateway: the sandbox's self-signed one. */
    caPem: z.string().min(1).optional(),
    requestTimeoutMs: z.coerce.number().int().positive().default(5000),
    /** HTTP/2 connections per credential. One carries many concurrent streams; raise for very high volume. */
    connectionsPerCredential: z.coerce.number().int().positive().max(16).default(1),
  })
  .superRefine(completeCredential);

/** Per-app settings: an app's own credential and bundle id, so one server sends for several iOS apps. */
export const apnsAppConfig = z.object(credentialFields);

export type ApnsConfig = z.infer<typeof apnsConfig>;
export type ApnsAppConfig = z.infer<typeof apnsAppConfig>;
export type ApnsCredential = z.infer<typeof apnsAppConfig>;
