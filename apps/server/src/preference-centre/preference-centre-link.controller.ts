import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext } from '../apps/auth-context';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { notFound } from '../common/api-error';
import { validate } from '../common/validate';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { ownUser } from '../contacts/own-user';
import { UserRepository } from '../contacts/user-repository';
import { PreferenceCentreTokens } from '../unsubscribe/preference-centre-token';
import {
  PREFERENCE_LINK_DEFAULT_SECONDS,
  PREFERENCE_LINK_MAX_SECONDS,
  preferencePageLink,
} from '../unsubscribe/preference-page-link';

/** POST /v1/users/:userId/preferences/link. `expiresIn`: seconds the link works (default 30 days). */
export const preferenceLinkSchema = z
  .object({
    expiresIn: z.int().min(60).max(PREFERENCE_LINK_MAX_SECONDS).optional(),
  })
  .strict();

/** Server keys only: the link lets whoever holds it change the user's preferences. */
@Controller('v1/users')
@RequireApiKey()
export class PreferenceCentreLinkController {
  constructor(
    private readonly users: UserRepository,
    @Inject(PreferenceCentreTokens) private readonly tokens: PreferenceCentreTokens,
    @Inject(ENV) private readonly env: Env,
  ) {}

  @Post(':userId/preferences/link')
  @HttpCode(200)
  async link(@CurrentAuth() auth: AuthContext, @Param('userId') userId: string, @Body() body: unknown) {
    const externalId = ownUser(auth, userId);
    const { expiresIn = PREFERENCE_LINK_DEFAULT_SECONDS } = validate(preferenceLinkSchema, body ?? {});
    const userKey = await this.users.idOf(auth.appId, externalId);
    if (!userKey) throw notFound('user');
    const { url, expiresAt } = preferencePageLink(
      this.tokens,
      this.env.CLARION_PUBLIC_URL,
      { appId: auth.appId, userId: userKey },
      expiresIn,
    );
    return { url, expiresAt: expiresAt.toISOString() };
  }
}
