import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unstorableReason } from '../database/storable';
import { ApiError } from './api-error';

/** The first string or key in `value` that PostgreSQL could not store: its path and the problem. */
export function findUnstorableText(
  value: unknown,
  path: string,
  depth = 0,
): { path: string; message: string } | undefined {
  if (typeof value === 'string') {
    const message = unstorableReason(value);
    return message ? { path, message } : undefined;
  }
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
  for (const [key, item] of entries) {
    const at = `${path}.${String(key)}`;
    const keyProblem = typeof key === 'string' ? unstorableReason(key) : undefined;
    if (keyProblem)
      return { path: at.toWellFormed().replaceAll('\u0000', '\\u0000'), message: `a key ${keyProblem}` };
    const found = findUnstorableText(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

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
 * Refuses text PostgreSQL cannot store anywhere in a request (path parameters, query, body) with a
 * 400 naming where, before any handler runs. Without it such a request failed at the database as a
 * 500, and with it every other request that shared its group-commit statement.
 */
export function registerTextGuard(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request) => {
    const found =
      findUnstorableText(request.params, 'params') ??
      findUnstorableText(request.query, 'query') ??
      (bodyMayHoldUnstorable(request) ? findUnstorableText(request.body, 'body') : undefined);
    if (found === undefined) return;
    throw new ApiError(400, 'invalid_request', `invalid input: ${found.path}: ${found.message}`, [found]);
  });
}
