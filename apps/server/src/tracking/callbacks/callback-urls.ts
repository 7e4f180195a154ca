import type { FastifyRequest } from 'fastify';

/**
 * The URL a provider signed for this request: the public URL the operator configured (what was
 * given to the provider) with the request's path. Never one built from Host or X-Forwarded-Host:
 * the caller chooses those, and a signature captured for one address would then verify at another.
 */
export function signedUrl(request: FastifyRequest, publicUrl: string): string {
  return `${new URL(publicUrl).origin}${request.url}`;
}
