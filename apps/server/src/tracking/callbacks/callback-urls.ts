import type { FastifyRequest } from 'fastify';

/**
 * The URL a provider signed for this request: the public URL the operator configured (what was
 * given to the provider) with the request's path. Never one built from Host or X-Forwarded-Host:
 * the caller chooses those, and a signature captured for one address would then verify at another.
 */
export function signedUrl(request: FastifyRequest, publicUrl: string): string {
  return `${new URL(publicUrl).origin}${request.url}`;
}

/** Flattens a query or body into strings (signatures are computed over string values). */
export function stringParams(...sources: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    if (!source || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      out[k] = Array.isArray(v) ? String(v[0]) : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return out;
}
