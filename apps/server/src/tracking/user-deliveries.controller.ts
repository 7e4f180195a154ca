import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiKeyGuard, ClientKeyAllowed } from '../auth/api-key.guard';
import type { AuthContext } from '../auth/auth-context';
import { CurrentAuth } from '../auth/current-auth';
import { ownUser } from '../auth/own-user';
import { notFound } from '../common/api-error';
import { UUID } from '../common/ids';
import { validate } from '../common/validate';
import { type EventRow, type EventView, historyOf } from './event-view';

export const userDeliveriesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The previous page's nextCursor. */
    cursor: z.string().regex(UUID, 'a cursor from a previous page').optional(),
    channel: z.string().min(1).max(50).optional(),
    status: z
      .enum([
        'pending',
        'queued',
        'sent',
        'delivered',
        'opened',
        'clicked',
        'failed',
        'suppressed',
        'expired',
        'canceled',
      ])
      .optional(),
  })
  .strict();

interface Row {
  id: string;
  status: string;
  createdAt: string;
  events: EventRow[];
  [key: string]: unknown;
}

/**
 * What a client key (in every copy of the app, so in anyone's hands) sees of a delivery: error
 * codes, never the provider's or receiver's own text, which can tell what sits behind an address.
 */
function forClient(d: Row, events: EventView[]) {
  return {
    ...d,
    errorMessage: null,
    events: events.map((e) => {
      if (e.errorMessage === null && !e.detail?.error) return e;
      const { error: _, ...detail } = e.detail ?? {};
      return { ...e, errorMessage: null, detail };
    }),
  };
}

/**
 * `GET /v1/users/:userId/deliveries`: a user's deliveries, newest first, with each one's history.
 * Keyset paging on the delivery id (UUIDv7, so time-ordered): a page costs the same however deep.
 */
@Controller('v1/users')
@UseGuards(ApiKeyGuard)
export class UserDeliveriesController {
  constructor(private readonly db: DataSource) {}

  @Get(':userId/deliveries')
  @ClientKeyAllowed()
  async list(@CurrentAuth() auth: AuthContext, @Param('userId') rawId: string, @Query() rawQuery: unknown) {
    const userId = ownUser(auth, rawId);
    const q = validate(userDeliveriesQuerySchema, rawQuery ?? {}, 'query');
    const [user]: { id: string }[] = await this.db.query(
      'SELECT id FROM users WHERE app_id = $1 AND external_id = $2',
      [auth.appId, userId],
    );
    if (!user) throw notFound('user');
    const found: Row[] = await this.db.query(
      `SELECT d.id, d.notification_id AS "notificationId", n.category, n.request->>'template' AS template, d.channel, d.plugin,
              d.status, d.reason, d.attempts, d.provider_message_id AS "providerMessageId", d.error_code AS "errorCode",
              d.error_message AS "errorMessage", d.created_at AS "createdAt", d.updated_at AS "updatedAt",
              COALESCE((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'attempt', e.attempt, 'detail', e.detail) ORDER BY e.id)
                          FROM delivery_events e WHERE e.delivery_id = d.id), '[]') AS events
         FROM deliveries d LEFT JOIN notifications n ON n.id = d.notification_id
        WHERE d.user_id = $1 AND ($2::uuid IS NULL OR d.id < $2::uuid)
          AND ($3::text IS NULL OR d.channel = $3) AND ($4::text IS NULL OR d.status = $4)
        ORDER BY d.id DESC LIMIT $5`,
      [user.id, q.cursor ?? null, q.channel ?? null, q.status ?? null, q.limit],
    );
    const client = auth.kind === 'client';
    return {
      userId,
      deliveries: found.map((d) => {
        const events = historyOf(d.status, d.createdAt, d.events);
        return client ? forClient(d, events) : { ...d, events };
      }),
      nextCursor: found.length === q.limit ? found.at(-1)!.id : null,
    };
  }
}
