import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppRepository } from '../apps/app-repository';
import { errorBody } from '../common/errors/error-answer';
import type { ErrorCode } from '../common/errors/error-catalog';

/** Fastify route config flag on the routes client keys may call (set by ClientKeyAllowed). */
export const CLIENT_ROUTE = 'clarionClientKey';

const ALLOWED_HEADERS =
  'authorization, content-type, x-clarion-app-key, x-clarion-app-secret, x-clarion-user-token';
const EXPOSED_HEADERS =
  'x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy, retry-after';
const ORIGINS_TTL_MS = 5_000;

/**
 * On an authenticated client-key call: the CORS answer headers when the request's Origin is in
 * the app's `corsOrigins`. Server keys never get them (a server key has no place in a browser).
 */
export function allowOrigin(request: FastifyRequest, reply: FastifyReply, origins: string[]): void {
  const origin = request.headers.origin;
  void reply.header('vary', 'Origin');
  if (typeof origin !== 'string' || !origins.includes(origin.toLowerCase())) return;
  void reply.header('access-control-allow-origin', origin);
  void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
}

/** `/v1/users/:userId/devices` → a matcher for concrete paths. */
function pathMatcher(pattern: string): RegExp {
  const escaped = pattern
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * CORS preflights for the client-key routes. A preflight carries no key, so it cannot name its
 * app: it is answered for an origin some app lists in `corsOrigins`, and the real request then
 * gets CORS headers only when the origin is in the calling app's own list (ApiKeyGuard). No
 * route uses cookies, so a preflight allowed this way grants nothing a key does not.
 * Call before the routes are registered (it watches them being added).
 */
export function registerCors(fastify: FastifyInstance, apps: () => AppRepository): void {
  const clientRoutes: { method: string; path: RegExp }[] = [];
  fastify.addHook('onRoute', (route) => {
    const config = route.config as Record<string, unknown> | undefined;
    if (config?.[CLIENT_ROUTE] !== true) return;
    for (const method of [route.method].flat()) clientRoutes.push({ method, path: pathMatcher(route.url) });
  });

  let cached: { origins: Set<string>; expires: number } | undefined;
  const knownOrigins = async (): Promise<Set<string>> => {
    if (cached && cached.expires > Date.now()) return cached.origins;
    cached = { origins: new Set(await apps().corsOrigins()), expires: Date.now() + ORIGINS_TTL_MS };
    return cached.origins;
  };

  fastify.options('/*', async (request, reply) => {
    const origin = request.headers.origin;
    const method = request.headers['access-control-request-method'];
    const refuse = (status: number, code: ErrorCode, message: string) =>
      reply.status(status).send(errorBody(code, message));
    if (typeof origin !== 'string' || typeof method !== 'string')
      return refuse(404, 'not_found', 'OPTIONS is answered only as a CORS preflight');
    const path = request.url.split('?')[0]!;
    const route = clientRoutes.find((r) => r.method === method.toUpperCase() && r.path.test(path));
    void reply.header('vary', 'Origin');
    if (!route) return refuse(403, 'forbidden', `${method} ${path} is not a client-key route`);
    if (!(await knownOrigins()).has(origin.toLowerCase()))
      return refuse(403, 'forbidden', `origin ${origin} is not in any app's corsOrigins`);
    void reply
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', route.method)
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .status(204);
    return reply.send();
  });
}
