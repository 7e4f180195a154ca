import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { AppsService } from '../../apps/apps.service';
import type { AuthContext } from '../../apps/auth-context';
import { CurrentAuth } from '../../auth/current-auth';
import { RequireApiKey } from '../../auth/require-auth';
import { badRequest, notFound } from '../../common/api-error';
import { UUID } from '../../common/ids';
import { validate } from '../../common/validate';
import { DeliveryQueries } from '../../deliveries/delivery-queries';
import { deadFilterShape } from './dead-deliveries';
import { RedriveService } from './redrive.service';

/** The most deliveries one re-drive request moves; the answer's nextCursor continues. */
export const REDRIVE_MAX = 10_000;

export const deadListQuery = z
  .object({ ...deadFilterShape, limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();

export const redriveBody = z
  .object({
    ...deadFilterShape,
    ids: z.array(z.string().regex(UUID, 'a delivery id')).min(1).max(REDRIVE_MAX).optional(),
    limit: z.number().int().min(1).max(REDRIVE_MAX).default(REDRIVE_MAX),
    dryRun: z.boolean().default(false),
  })
  .strict();

/**
 * The dead-letter view and the re-drive: an app's failed and expired deliveries, and sending
 * them again. Server keys only, each app its own deliveries.
 */
@Controller('v1/deliveries')
@RequireApiKey()
export class DeliveriesController {
  constructor(
    private readonly redrives: RedriveService,
    private readonly apps: AppsService,
    private readonly deliveries: DeliveryQueries,
  ) {}

  @Get()
  async list(@CurrentAuth() auth: AuthContext, @Query() rawQuery: unknown) {
    const q = validate(deadListQuery, rawQuery ?? {}, 'query');
    const found = await this.deliveries.dead(auth.appId, q, q.limit);
    return {
      deliveries: found.map(({ userKey: _internal, tracked: _tracked, ...d }) => d),
      nextCursor: found.length === q.limit ? found.at(-1)!.id : null,
    };
  }

  @Post('redrive')
  @HttpCode(200)
  async redrive(@CurrentAuth() auth: AuthContext, @Body() body: unknown) {
    const b = validate(redriveBody, body ?? {});
    if (b.ids && (b.status || b.plugin || b.channel || b.from || b.to))
      throw badRequest('give either ids or a filter (status, plugin, channel, from, to), not both', [
        { path: 'body.ids', message: 'not with a filter' },
      ]);
    const app = await this.apps.get(auth.appId);
    if (!app) throw notFound('app');
    const { limit, dryRun, ...filter } = b;
    return this.redrives.redrive(app, filter, limit, dryRun);
  }
}
