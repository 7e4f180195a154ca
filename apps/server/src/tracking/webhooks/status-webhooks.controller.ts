import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext } from '../../apps/auth-context';
import { CurrentAuth } from '../../auth/current-auth';
import { RequireApiKey } from '../../auth/require-auth';
import { ApiError, notFound } from '../../common/api-error';
import { UUID } from '../../common/ids';
import { assertOutboundUrls } from '../../common/outbound-urls';
import { validate } from '../../common/validate';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { STATUS_EVENT_TYPES, StatusWebhooks } from './status-webhooks.service';

const MAX_PER_APP = 10;

export const createStatusWebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2000),
    events: z
      .array(z.enum(STATUS_EVENT_TYPES))
      .min(1)
      .default([...STATUS_EVENT_TYPES]),
    /** Bring your own signing secret (e.g. shared with the webhook channel); default: generated and shown once. */
    secret: z.string().min(16).max(200).optional(),
  })
  .strict();

/** `POST/GET/DELETE /v1/webhooks`: where an app receives its delivery status events (server keys only). */
@Controller('v1/webhooks')
@RequireApiKey()
export class StatusWebhooksController {
  constructor(
    private readonly hooks: StatusWebhooks,
    @Inject(ENV) private readonly env: Env,
  ) {}

  @Post()
  async create(@CurrentAuth() auth: AuthContext, @Body() body: unknown) {
    const input = validate(createStatusWebhookSchema, body);
    assertOutboundUrls(this.env, [{ path: 'body.url', url: input.url }]);
    if ((await this.hooks.count(auth.appId)) >= MAX_PER_APP) {
      throw new ApiError(409, 'limit_reached', `an app may register at most ${MAX_PER_APP} status webhooks`);
    }
    return this.hooks.create(auth.appId, {
      url: input.url,
      events: [...new Set(input.events)],
      secret: input.secret,
    });
  }

  @Get()
  async list(@CurrentAuth() auth: AuthContext) {
    return { webhooks: (await this.hooks.list(auth.appId)).map(({ appId: _, ...w }) => w) };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentAuth() auth: AuthContext, @Param('id') id: string) {
    if (!UUID.test(id) || !(await this.hooks.delete(auth.appId, id))) throw notFound('webhook');
  }
}
