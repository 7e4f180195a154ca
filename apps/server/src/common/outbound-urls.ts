import { type OutboundPolicy, outboundPolicy, refusedUrl } from '@clarion/plugin-sdk';
import type { Env } from '../config/env';
import { ApiError } from './api-error';

const policies = new WeakMap<Env, OutboundPolicy>();

/** The outbound policy the environment sets (CLARION_OUTBOUND_ALLOW_PRIVATE, CLARION_OUTBOUND_ALLOW). */
export function outboundPolicyOf(env: Env): OutboundPolicy {
  let policy = policies.get(env);
  if (!policy) {
    policy = outboundPolicy({
      allowPrivate: env.CLARION_OUTBOUND_ALLOW_PRIVATE,
      allow: env.CLARION_OUTBOUND_ALLOW,
    });
    policies.set(env, policy);
  }
  return policy;
}

/**
 * Refuses, with a 400 naming each field, URLs the server would never connect to: not http(s),
 * with credentials, or a literal IP in a refused range. Names are checked again when connecting.
 */
export function assertOutboundUrls(env: Env, urls: { path: string; url: string | null | undefined }[]): void {
  const policy = outboundPolicyOf(env);
  const details = urls.flatMap(({ path, url }) => {
    if (url === null || url === undefined) return [];
    const reason = refusedUrl(url, policy);
    return reason ? [{ path, message: `not a destination this server connects to: ${reason}` }] : [];
  });
  if (details.length > 0)
    throw new ApiError(
      400,
      'invalid_request',
      `invalid body: ${details[0]!.path}: ${details[0]!.message}`,
      details,
    );
}
