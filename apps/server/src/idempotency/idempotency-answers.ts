import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyRepository } from './idempotency-repository';
import './claimed-key';

/** The body as stored for a replay: the JSON sent, parsed back; nothing for an empty answer. */
function storedBody(payload: unknown): unknown {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Records the answer of a request that claimed an Idempotency-Key, as it is sent (Fastify's
 * onSend, after the error filter has made any error an answer): below 500 it is stored for
 * replays, before the client can see it; a 5xx lets the key go. A failure to store is logged and
 * the answer still sent: the work is done, and the key stays "in progress" until the
 * repository's abandonment rule frees it.
 */
export function recordIdempotentAnswers(fastify: FastifyInstance, store: () => IdempotencyRepository): void {
  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claimed = request.idempotencyKey;
    if (!claimed) return payload;
    request.idempotencyKey = undefined;
    const { scope, key } = claimed;
    try {
      if (reply.statusCode < 500) await store().finish(scope, key, reply.statusCode, storedBody(payload));
      else await store().release(scope, key);
    } catch (error) {
      request.log.warn(
        { err: (error as Error).message, status: reply.statusCode },
        'could not record the answer of an Idempotency-Key; the key stays in progress for a while',
      );
    }
    return payload;
  });
}
