import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppsService } from '../apps/apps.service';
import { forbidden, unauthorized } from '../common/api-error';
import { ApiQuota } from '../ratelimits/api-quota';
import '../apps/auth-context';
import { KeyService } from '../apps/key.service';
import { allowOrigin, CLIENT_ROUTE } from './cors';
import { verifyUserTokenWithAny } from './user-token';

const CLIENT_ALLOWED = 'clarion:client-allowed';
/**
 * Marks a handler that client keys may call (for their signed-in user only). Others need a server
 * key. The Fastify route config lets CORS preflights (which carry no key) find these routes.
 */
export const ClientKeyAllowed = () =>
  applyDecorators(SetMetadata(CLIENT_ALLOWED, true), RouteConfig({ [CLIENT_ROUTE]: true }));

/** Reads `Authorization: Basic base64(appKey:appSecret)`, or the X-Clarion-App-Key / X-Clarion-App-Secret headers. */
export function readCredentials(request: FastifyRequest): { appKey: string; appSecret: string } | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { appKey: decoded.slice(0, colon), appSecret: decoded.slice(colon + 1) };
    return null;
  }
  const appKey = request.headers['x-clarion-app-key'];
  const appSecret = request.headers['x-clarion-app-secret'];
  return typeof appKey === 'string' && typeof appSecret === 'string' ? { appKey, appSecret } : null;
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: KeyService,
    private readonly apps: AppsService,
    private readonly reflector: Reflector,
    private readonly quota: ApiQuota,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const credentials = readCredentials(request);
    if (!credentials) throw unauthorized();
    const key = await this.keys.verify(credentials.appKey, credentials.appSecret);
    if (!key) throw unauthorized('unknown, revoked or wrong appKey/appSecret');
    if (key.kind === 'client') {
      const allowed = this.reflector.getAllAndOverride<boolean>(CLIENT_ALLOWED, [
        context.getHandler(),
        context.getClass(),
      ]);
      if (!allowed) throw forbidden('this endpoint needs a server key');
      const app = await this.apps.get(key.appId);
      allowOrigin(
        request,
        context.switchToHttp().getResponse<FastifyReply>(),
        app?.settings.corsOrigins ?? [],
      );
      const token = request.headers['x-clarion-user-token'];
      const userExternalId =
        typeof token === 'string'
          ? await verifyUserTokenWithAny(token, await this.apps.userTokenSecrets(key.appId))
          : null;
      if (!userExternalId)
        throw unauthorized('client keys need a valid X-Clarion-User-Token signed by the app backend');
      request.auth = { appId: key.appId, keyId: key.keyId, kind: 'client', userExternalId };
    } else {
      request.auth = { appId: key.appId, keyId: key.keyId, kind: 'server' };
    }
    const settings = (await this.apps.get(key.appId))?.settings;
    await this.quota.enforce(request.auth, settings, context.switchToHttp().getResponse<FastifyReply>());
    return true;
  }
}
