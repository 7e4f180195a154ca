import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AppsService } from '../apps/apps.service';
import type { AuthContext } from '../apps/auth-context';
import { ClientKeyAllowed } from '../auth/api-key.guard';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { notFound } from '../common/api-error';
import { UUID } from '../common/ids';
import { addLogFields } from '../common/request-log-fields';
import { validate } from '../common/validate';
import { PluginRegistry } from '../plugins/plugin-registry';
import { batchEnvelopeSchema } from './batch-request';
import { assertClientMaySend, assertServerEventId, clientEventId } from './client-send-policy';
import { NotificationBatchService } from './notification-batch.service';
import { NotificationReader } from './notification-reader';
import { NotificationsService } from './notifications.service';
import { notificationRequestSchemaFor } from './request-schemas';

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(1000),
    /** The previous page's nextCursor (as on the other paged routes). */
    cursor: z.string().regex(UUID, 'a cursor from a previous page').optional(),
    /** The same, by its older name. */
    after: z.string().regex(UUID, 'a cursor from a previous page').optional(),
  })
  .strict();

@Controller('v1/notifications')
@RequireApiKey()
export class NotificationsController {
  constructor(
    private readonly service: NotificationsService,
    private readonly reader: NotificationReader,
    private readonly apps: AppsService,
    private readonly batches: NotificationBatchService,
    private readonly plugins: PluginRegistry,
  ) {}

  @Post()
  @ClientKeyAllowed()
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const request = validate(notificationRequestSchemaFor(this.plugins), body);
    const app = await this.apps.get(auth.appId);
    if (!app) throw notFound('app');
    const client = auth.kind === 'client';
    if (client) {
      assertClientMaySend(app, auth, request, body);
      if (request.eventId !== undefined)
        request.eventId = clientEventId(auth.userExternalId!, request.eventId);
    } else assertServerEventId(request.eventId);
    const result = await this.service.accept(app, request, client);
    addLogFields(reply.raw, { notificationId: result.body.id, appId: app.id });
    void reply.status(result.status);
    return result.body;
  }

  /** Up to 1,000 notifications; 207 with one result per item, in request order (server keys only). */
  @Post('batch')
  async batch(
    @CurrentAuth() auth: AuthContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { notifications } = validate(batchEnvelopeSchema, body);
    const app = await this.apps.get(auth.appId);
    if (!app) throw notFound('app');
    const results = await this.batches.accept(app, auth, notifications);
    addLogFields(reply.raw, { appId: app.id, batchItems: String(notifications.length) });
    void reply.status(207);
    return { results };
  }

  @Get(':id')
  async get(@CurrentAuth() auth: AuthContext, @Param('id') id: string, @Query() query: unknown) {
    if (!UUID.test(id)) throw notFound('notification');
    const q = validate(listQuery, query, 'query');
    const found = await this.reader.get(auth.appId, id, q.limit, q.cursor ?? q.after ?? null);
    if (!found) throw notFound('notification');
    return found;
  }
}
