import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext } from '../apps/auth-context';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { notFound } from '../common/api-error';
import { UUID } from '../common/ids';
import { validate } from '../common/validate';
import { type CancelResult, NotificationCanceler } from './notification-canceler';

/** The endpoint takes no options; an empty object (or no body) is accepted, anything else is a 400. */
const cancelBody = z.object({}).strict().optional();

/** `POST /v1/notifications/:id/cancel` (server keys only): stops what has not been sent yet. */
@Controller('v1/notifications')
@RequireApiKey()
export class CancelController {
  constructor(private readonly canceler: NotificationCanceler) {}

  @Post(':id/cancel')
  @HttpCode(200)
  async cancel(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<CancelResult> {
    if (!UUID.test(id)) throw notFound('notification');
    validate(cancelBody, body);
    return this.canceler.cancel(auth.appId, id);
  }
}
