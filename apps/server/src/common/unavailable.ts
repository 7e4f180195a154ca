import { anyCause } from './error-causes';

/** Socket errors: the peer (or the network to it) is away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs that mean "not now" rather than "wrong request": connection exceptions
 * (class 08), the server shutting down or still starting (57P01–57P03), too many connections (53300).
 */
const RETRYABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

/** What pg and pg-pool throw for a lost or unobtainable connection (these carry no code). */
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i;

/**
 * Whether an error means the database (or the network to it) is unavailable for now: the request
 * may well succeed if repeated, so it is a 503, not a 500. Looks through TypeORM's `driverError`
 * and `cause`.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return anyCause(
    error,
    (e) =>
      (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || RETRYABLE_SQLSTATE.test(e.code))) ||
      (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)),
  );
}

/** Seconds a client is told to wait before repeating a request refused for an unavailable database. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
