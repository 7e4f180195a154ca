import { Controller, Get, Query } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext } from '../apps/auth-context';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { badRequest } from '../common/api-error';
import { validate } from '../common/validate';
import { StatsService } from './stats.service';

const MAX_BUCKETS = 2000;
const dimension = z.string().min(1).max(200);

export const statsQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    bucket: z.enum(['hour', 'day']).default('hour'),
    channel: dimension.optional(),
    plugin: dimension.optional(),
    template: dimension.optional(),
    category: dimension.optional(),
  })
  .strict();

/** `GET /v1/stats`: the app's funnel by hour or day (UTC), optionally for one channel, plugin, template or category. */
@Controller('v1/stats')
@RequireApiKey()
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  async get(@CurrentAuth() auth: AuthContext, @Query() raw: unknown) {
    const q = validate(statsQuerySchema, raw ?? {}, 'query');
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 24 * 3_600_000);
    if (from >= to)
      throw badRequest('from must be before to', [{ path: 'query.from', message: 'must be before to' }]);
    const buckets = (to.getTime() - from.getTime()) / (q.bucket === 'hour' ? 3_600_000 : 86_400_000);
    if (buckets > MAX_BUCKETS) {
      throw badRequest(`the range spans ${Math.ceil(buckets)} ${q.bucket}s; at most ${MAX_BUCKETS}`, [
        { path: 'query.bucket', message: 'use a shorter range or bucket=day' },
      ]);
    }
    return this.stats.query(auth.appId, {
      from,
      to,
      bucket: q.bucket,
      channel: q.channel,
      plugin: q.plugin,
      template: q.template,
      category: q.category,
    });
  }
}
