import type { FastifyRequest } from 'fastify';

/**
 * The URLs a provider may have signed for this request: the public URL the operator configured
 * (what was given to the provider, in front of any proxy) and the URL as this server saw it.
 */
export function signedUrlCandidates(request: FastifyRequest, publicUrl: string): string[] {
  const origin = new URL(publicUrl).origin;
  const seen = `${request.protocol}://${request.host}${request.url}`;
  return [...new Set([`${origin}${request.url}`, seen])];
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
