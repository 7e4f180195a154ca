import { type Logger, pino } from 'pino';
import type { Env } from '../config/env';
import { logSerializers } from './log-serializers';

/** Headers that carry credentials; pino replaces them with "[Redacted]" wherever they are logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-clarion-app-secret"]',
  'req.headers["x-clarion-user-token"]',
  'req.headers.cookie',
];

/** Paths probed every few seconds: logging them would drown everything else. */
export const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The JSON logger Fastify uses for requests (one line per request, with its id). */
export function requestLogger(env: Env): Logger {
  return pino({
    level: env.LOG_LEVEL,
    base: { role: env.CLARION_ROLE },
    redact: REDACTED_PATHS,
    serializers: logSerializers,
  });
}

/**
 * The request's path as logged: no query string (provider callbacks carry phone numbers there, and
 * unsubscribe links their token), and a route with a `:token` parameter (tracked links) by its
 * pattern. A token in a log would let anyone who reads the logs click or unsubscribe as its user.
 */
export function loggablePath(url: string, route: string | undefined): string {
  if (route?.includes(':token')) return route;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
