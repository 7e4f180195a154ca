import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext } from '../apps/auth-context';
import { ClientKeyAllowed } from '../auth/api-key.guard';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { notFound } from '../common/api-error';
import { UUID } from '../common/ids';
import { validate } from '../common/validate';
import { ownUser } from '../contacts/own-user';
import { UserRepository } from '../contacts/user-repository';
import { DeliveryQueries, type UserDelivery } from '../deliveries/delivery-queries';
import { DELIVERY_STATUSES } from '../deliveries/delivery-status';
import { type EventView, historyOf } from '../deliveries/event-view';

export const userDeliveriesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The previous page's nextCursor. */
    cursor: z.string().regex(UUID, 'a cursor from a previous page').optional(),
    channel: z.string().min(1).max(50).optional(),
    status: z.enum(DELIVERY_STATUSES).optional(),
  })
  .strict();

/**
 * What a client key (in every copy of the app, so in anyone's hands) sees of a delivery: error
 * codes, never the provider's or receiver's own text, which can tell what sits behind an address.
 */
function forClient(d: UserDelivery, events: EventView[]) {
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
@RequireApiKey()
export class UserDeliveriesController {
  constructor(
    private readonly users: UserRepository,
    private readonly deliveries: DeliveryQueries,
  ) {}

  @Get(':userId/deliveries')
  @ClientKeyAllowed()
  async list(@CurrentAuth() auth: AuthContext, @Param('userId') rawId: string, @Query() rawQuery: unknown) {
    const userId = ownUser(auth, rawId);
    const q = validate(userDeliveriesQuerySchema, rawQuery ?? {}, 'query');
    const userKey = await this.users.idOf(auth.appId, userId);
    if (!userKey) throw notFound('user');
    const found = await this.deliveries.ofUser(userKey, {
      before: q.cursor ?? null,
      channel: q.channel ?? null,
      status: q.status ?? null,
      limit: q.limit,
    });
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
