import { Controller, Get, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { notFound } from '../common/api-error';
import { UserRepository } from '../contacts/user-repository';
import { PreferenceRepository } from '../preferences/preference-repository';
import { confirmPage, donePage } from './unsubscribe-page';
import { UnsubscribeTokens } from './unsubscribe-token';

/**
 * Public (no app key): the signed token is the authority. GET shows a confirmation page; POST —
 * the RFC 8058 one-click request from a mail client, or the page's button — opts the user out of
 * e-mail for the token's category through the shared opt-out write path. A malformed token is a
 * 400, a forged one 401, a user since deleted 404; none of them changes anything. The token rides
 * in the query string: path segments are capped at 100 characters by the HTTP router.
 */
@Controller('v1/unsubscribe')
export class UnsubscribeController {
  constructor(
    private readonly users: UserRepository,
    private readonly prefs: PreferenceRepository,
    @Inject(UnsubscribeTokens) private readonly tokens: UnsubscribeTokens,
  ) {}

  @Get()
  async confirm(
    @Query('token') token: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const claim = this.tokens.verify(token);
    const appName = await this.owner(claim.appId, claim.userId);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return confirmPage(appName, claim.category, `?token=${encodeURIComponent(String(token))}`);
  }

  @Post()
  @HttpCode(200)
  async unsubscribe(
    @Query('token') token: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const claim = this.tokens.verify(token);
    const appName = await this.owner(claim.appId, claim.userId);
    await this.prefs.optOut({
      appId: claim.appId,
      userId: claim.userId,
      channel: 'email',
      category: claim.category,
      source: 'unsubscribe_link',
    });
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return donePage(appName, claim.category);
  }

  /** The app's name, if the user still exists in it. */
  private async owner(appId: string, userId: string): Promise<string> {
    const user = await this.users.withAppName(appId, userId);
    if (!user) throw notFound('the user of this unsubscribe link');
    return user.appName;
  }
}
