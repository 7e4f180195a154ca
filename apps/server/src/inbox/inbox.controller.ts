import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthContext } from '../apps/auth-context';
import { ClientKeyAllowed } from '../auth/api-key.guard';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { ApiError, notFound } from '../common/api-error';
import { validate } from '../common/validate';
import { TrackingRecorder } from '../tracking/tracking-recorder';
import { InboxHub } from './inbox-hub';
import { InboxRepository } from './inbox-repository';
import { inboxChangeBody, inboxListQuery, inboxMessageParams, inboxUserQuery } from './inbox-schemas';
import { openStream } from './inbox-stream';
import { inboxUser } from './inbox-user';
import { viewOf } from './inbox-view';

/**
 * The in-app inbox of a signed-in user (client key + user token), or of any user for a server
 * key (`?userId=`). A first read records the delivery's `opened` step, as a client event does.
 */
@Controller('v1/inbox')
@RequireApiKey()
export class InboxController {
  constructor(
    private readonly store: InboxRepository,
    private readonly hub: InboxHub,
    private readonly recorder: TrackingRecorder,
  ) {}

  private async user(
    auth: AuthContext,
    userId: string | undefined,
  ): Promise<{ id: string; externalId: string }> {
    const externalId = inboxUser(auth, userId);
    const id = await this.store.userOf(auth.appId, externalId);
    if (!id) throw notFound('user');
    return { id, externalId };
  }

  @Get('messages')
  @ClientKeyAllowed()
  async list(@CurrentAuth() auth: AuthContext, @Query() query: unknown) {
    const q = validate(inboxListQuery, query, 'query');
    const user = await this.user(auth, q.userId);
    const page = await this.store.list(user.id, q.view, q.limit, q.cursor);
    if (!page)
      throw new ApiError(400, 'invalid_request', 'cursor is no message of this user', [
        { path: 'query.cursor', message: 'unknown cursor' },
      ]);
    const messages = page.rows.map(viewOf);
    return {
      messages,
      nextCursor: page.more ? (messages.at(-1)?.id ?? null) : null,
      unread: await this.store.unread(user.id),
    };
  }

  @Get('unread-count')
  @ClientKeyAllowed()
  async unread(@CurrentAuth() auth: AuthContext, @Query() query: unknown) {
    const q = validate(inboxUserQuery, query, 'query');
    const user = await this.user(auth, q.userId);
    return { unread: await this.store.unread(user.id) };
  }

  @Patch('messages/:id')
  @ClientKeyAllowed()
  async change(
    @CurrentAuth() auth: AuthContext,
    @Param() params: unknown,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const { id } = validate(inboxMessageParams, params, 'params');
    const q = validate(inboxUserQuery, query, 'query');
    const change = validate(inboxChangeBody, body ?? {});
    const user = await this.user(auth, q.userId);
    const changed = await this.store.change(user.id, id, change);
    if (!changed) throw notFound('message');
    if (changed.firstRead) await this.recorder.record({ deliveryId: id, status: 'opened', source: 'inbox' });
    const unread = await this.store.unread(user.id);
    await this.hub.unreadChanged(auth.appId, user.externalId, unread);
    return { message: viewOf(changed.row), unread };
  }

  @Post('messages/mark-all')
  @HttpCode(200)
  @ClientKeyAllowed()
  async changeAll(@CurrentAuth() auth: AuthContext, @Query() query: unknown, @Body() body: unknown) {
    const q = validate(inboxUserQuery, query, 'query');
    const change = validate(inboxChangeBody, body ?? {});
    const user = await this.user(auth, q.userId);
    const { updated, firstRead } = await this.store.changeAll(user.id, change);
    if (firstRead.length > 0)
      await this.recorder.recordAll(
        firstRead.map((deliveryId) => ({ deliveryId, status: 'opened', source: 'inbox' })),
      );
    const unread = await this.store.unread(user.id);
    await this.hub.unreadChanged(auth.appId, user.externalId, unread);
    return { updated, unread };
  }

  @Get('stream')
  @ClientKeyAllowed()
  async stream(@CurrentAuth() auth: AuthContext, @Query() query: unknown, @Res() reply: FastifyReply) {
    const q = validate(inboxUserQuery, query, 'query');
    const user = await this.user(auth, q.userId);
    openStream(reply, this.hub, auth.appId, user.externalId, await this.store.unread(user.id));
  }
}
