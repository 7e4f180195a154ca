import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError } from './errors/domain-error';
import { domainErrorAnswer, errorBody } from './errors/error-answer';
import type { ErrorCode } from './errors/error-catalog';
import { ReplayedAnswer } from './errors/replayed-answer';
import { isDatabaseUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from './unavailable';

/** The code for an HTTP error raised without one (Nest's own exceptions, Fastify's errors). */
const CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  431: 'headers_too_large',
  503: 'unavailable',
};

const codeFor = (status: number): ErrorCode =>
  CODES[status] ?? (status < 500 ? 'invalid_request' : 'internal');

/**
 * The edge where errors become HTTP: every error turns into `{error: {code, message, details}}`.
 * A DomainError's status comes from the error catalog; unknown errors are a logged 500 with no
 * internals.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof ReplayedAnswer) {
      void reply
        .status(exception.status)
        .header('idempotent-replayed', 'true')
        .send(exception.body ?? undefined);
      return;
    }
    if (exception instanceof DomainError) {
      const { status, body } = domainErrorAnswer(exception);
      void reply.status(status).send(body);
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object') {
        void reply.status(status).send(body);
        return;
      }
      const message =
        typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
      void reply.status(status).send(errorBody(codeFor(status), String(message)));
      return;
    }
    // Fastify's own errors (bad JSON, body too large) carry a statusCode, the body parser's also details.
    const { statusCode, details } = (exception ?? {}) as { statusCode?: number; details?: unknown };
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      void reply
        .status(statusCode)
        .send(
          errorBody(
            CODES[statusCode] ?? 'invalid_request',
            (exception as Error).message,
            Array.isArray(details) ? details : [],
          ),
        );
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      // Nothing was stored (202 comes only after the commit): the caller should simply repeat it.
      this.log.warn(`database unavailable: ${(exception as Error).message}`);
      void reply
        .status(503)
        .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS))
        .send(
          errorBody('unavailable', 'the database is unavailable right now; nothing was stored, retry later'),
        );
      return;
    }
    this.log.error(exception);
    void reply.status(500).send(errorBody('internal', 'internal error'));
  }
}
