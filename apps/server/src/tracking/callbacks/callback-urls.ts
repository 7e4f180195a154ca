import type { FastifyRequest } from 'fastify';

/**
 * The URL a provider signed for this request: the public URL the operator configured (what was
 * given to the provider) with the request's path. Never one built from Host or X-Forwarded-Host:
 * the caller chooses those, and a signature captured for one address would then verify at another.
 */
export function signedUrl(request: FastifyRequest, publicUrl: string): string {
  return `${new URL(publicUrl).origin}${request.url}`;
}

/**
 * Flattens a query or body into strings (signatures are computed over string values). Providers
 * post flat fields only: a nested value is no parameter of theirs and is left out (serialising a
 * hostile one could exhaust the stack).
 */
export function stringParams(...sources: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    if (!source || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      const first = Array.isArray(v) ? v[0] : v;
      if (typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean')
        out[k] = String(first);
    }
  }
  return out;
}
