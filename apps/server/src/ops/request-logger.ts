import { type Logger, pino } from 'pino';
import type { Env } from '../config/env';

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
  return pino({ level: env.LOG_LEVEL, base: { role: env.CLARION_ROLE }, redact: REDACTED_PATHS });
}
