import type { FastifyInstance } from 'fastify';

/**
 * RFC 8058 one-click unsubscribes (and the confirmation page's button) POST
 * `application/x-www-form-urlencoded`. Parsed with URLSearchParams into a plain object; registered
 * once, whoever gets there first (provider callbacks need the same parser).
 */
export function registerFormBody(fastify: FastifyInstance): void {
  const type = 'application/x-www-form-urlencoded';
  if (fastify.hasContentTypeParser(type)) return;
  fastify.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
}
