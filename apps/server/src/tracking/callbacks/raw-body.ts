import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as received (JSON and form bodies): signatures are computed over these bytes. */
    rawBody?: string;
  }
}

export function keepRawBody(request: FastifyRequest, text: string): void {
  request.rawBody = text;
}

/** Form posts (Twilio, Mandrill, Vonage callbacks) as a flat string record; a repeated key keeps its first value. */
export function registerFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (request, body, done) => {
      const text = String(body);
      keepRawBody(request, text);
      const params: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(text)) if (!(k in params)) params[k] = v;
      done(null, params);
    },
  );
}
