import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What a caller may pass as X-Request-Id: short, printable, nothing that could forge a log line. */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id on every log line of a request: the caller's `X-Request-Id` when it is sane
 * (so one id follows a request from the product's service through Clarion), else a new UUID.
 * The server echoes it back in the response's `X-Request-Id` header.
 */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTABLE.test(given) ? given : randomUUID();
}
