import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../common/api-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Operator endpoints (`/admin/*`): `Authorization: Bearer <CLARION_ADMIN_TOKEN>`. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;
  constructor(@Inject(ENV) env: Env) {
    this.expected = digest(env.CLARION_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !timingSafeEqual(digest(token), this.expected)) throw unauthorized('admin token required');
    return true;
  }
}
