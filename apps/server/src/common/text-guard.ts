import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { findJsonProblem } from './json-walk';

/**
 * A JSON body can only carry NUL or an unpaired surrogate as a `\u` escape (`\u0000`, `\ud800`), a
 * form body only as `%00` (a form's invalid UTF-8 decodes to U+FFFD). Without those in the raw
 * text there is nothing to look for: the common request costs a substring search.
 */
function bodyMayHoldUnstorable(request: FastifyRequest): boolean {
  const raw = request.rawBody;
  return raw === undefined || raw.includes('\\u') || raw.includes('%00');
}

/**
 * Refuses text PostgreSQL cannot store anywhere in a request (path parameters, query, body; keys
 * too, at any depth) with a 400 naming where, before any handler runs. Without it such a request
 * failed at the database as a 500, and with it every other request that shared its group-commit
 * statement.
 */
export function registerTextGuard(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request) => {
    const found =
      findJsonProblem(request.params, 'params') ??
      findJsonProblem(request.query, 'query') ??
      (bodyMayHoldUnstorable(request) ? findJsonProblem(request.body, 'body') : undefined);
    if (found === undefined) return;
    throw new ApiError(400, 'invalid_request', `invalid input: ${found.path}: ${found.message}`, [found]);
  });
}
