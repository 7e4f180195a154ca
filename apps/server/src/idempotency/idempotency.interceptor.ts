import { createHash } from 'node:crypto';
import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { ApiError, badRequest } from '../common/api-error';
import { DomainError } from '../common/errors/domain-error';
import { domainErrorAnswer } from '../common/errors/error-answer';
import { IdempotencyRepository } from './idempotency-repository';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** Who the key belongs to: the operator, or an app (a client key's user has their own keys). */
function scopeOf(request: FastifyRequest): string | undefined {
  if (request.url.startsWith('/admin/')) return 'admin';
  const auth = request.auth;
  if (!auth || !request.url.startsWith('/v1/')) return undefined; // unauthenticated routes (callbacks, unsubscribe)
  return auth.kind === 'client' ? `app:${auth.appId}:user:${auth.userExternalId}` : `app:${auth.appId}`;
}

/** The request the key stands for: method, path with query, and the body as sent (else as parsed). */
function hashOf(request: FastifyRequest): string {
  const body = request.rawBody ?? (request.body === undefined ? '' : JSON.stringify(request.body));
  return createHash('sha256').update(`${request.method} ${request.url}\n${body}`).digest('hex');
}

/**
 * `Idempotency-Key` on every write of `/v1` and `/admin`: the first answer (status and body, a
 * 4xx included) is stored and replayed for the same key and request; the key with another
 * request is a 409 `idempotency_key_reused`; a repeat while the first still runs is a 409
 * `idempotency_key_in_progress`. A 5xx or a crash lets the key go, so the client's retry runs.
 * Runs after the guards: only an authenticated caller's answers are stored, under its own scope.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const header = request.headers['idempotency-key'];
    if (header === undefined || !WRITES.has(request.method)) return next.handle();
    const scope = scopeOf(request);
    if (!scope) return next.handle();
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || !KEY.test(key))
      throw badRequest('Idempotency-Key must be 1 to 255 printable ASCII characters', [
        { path: 'headers.idempotency-key', message: 'printable ASCII, at most 255 characters' },
      ]);
    return from(this.run(scope, key, request, http.getResponse<FastifyReply>(), next));
  }

  private async run(
    scope: string,
    key: string,
    request: FastifyRequest,
    reply: FastifyReply,
    next: CallHandler,
  ): Promise<unknown> {
    const claim = await this.store.claim(scope, key, hashOf(request));
    switch (claim.kind) {
      case 'reused':
        throw new ApiError(
          409,
          'idempotency_key_reused',
          'this Idempotency-Key was used for a different request (method, path or body)',
          { key },
        );
      case 'in_progress':
        throw new ApiError(
          409,
          'idempotency_key_in_progress',
          'a request with this Idempotency-Key is still running; retry later',
          { key, retryable: true },
        );
      case 'replay':
        void reply.status(claim.status).header('idempotent-replayed', 'true');
        return claim.body ?? undefined;
      case 'run':
        break;
    }
    let result: unknown;
    try {
      result = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      const answer =
        error instanceof DomainError
          ? domainErrorAnswer(error)
          : error instanceof HttpException
            ? { status: error.getStatus(), body: error.getResponse() }
            : undefined;
      if (answer && answer.status < 500) await this.store.finish(scope, key, answer.status, answer.body);
      else await this.store.release(scope, key).catch(() => undefined);
      throw error;
    }
    await this.store.finish(scope, key, reply.statusCode, result);
    return result;
  }
}
