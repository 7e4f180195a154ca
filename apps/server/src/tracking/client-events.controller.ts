import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext } from '../apps/auth-context';
import { ClientKeyAllowed } from '../auth/api-key.guard';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { ApiError } from '../common/api-error';
import { UUID } from '../common/ids';
import { validate } from '../common/validate';
import { DeliveryQueries } from '../deliveries/delivery-queries';
import { FUNNEL } from '../deliveries/transitions';
import { TrackingRecorder } from './tracking-recorder';

export const clientEventsSchema = z
  .object({
    events: z
      .array(
        z
          .object({
            deliveryId: z.string().regex(UUID, 'a delivery id (UUID)'),
            type: z.enum(['opened', 'clicked']),
          })
          .strict(),
      )
      .min(1)
      .max(100),
  })
  .strict();

const SENT = new Set<string>(FUNNEL);

/**
 * `POST /v1/events`: client apps report that the user opened or tapped a push. A client key may
 * report only its signed-in user's deliveries; a server key any delivery of its app. One unknown
 * or foreign delivery refuses the whole request (404), one not yet sent (or failed) too (409).
 */
@Controller('v1/events')
@RequireApiKey()
export class ClientEventsController {
  constructor(
    private readonly deliveries: DeliveryQueries,
    private readonly recorder: TrackingRecorder,
  ) {}

  @Post()
  @HttpCode(200)
  @ClientKeyAllowed()
  async report(@CurrentAuth() auth: AuthContext, @Body() body: unknown) {
    const { events } = validate(clientEventsSchema, body);
    const ids = [...new Set(events.map((e) => e.deliveryId))];
    const owned = await this.deliveries.statusesOf(
      auth.appId,
      ids,
      auth.kind === 'client' ? (auth.userExternalId ?? null) : null,
    );
    const mine = new Set(owned.map((r) => r.id));
    const missing = ids.filter((id) => !mine.has(id));
    if (missing.length > 0) {
      throw new ApiError(
        404,
        'not_found',
        `delivery not found${auth.kind === 'client' ? ' for the signed-in user' : ''}`,
        { deliveryIds: missing },
      );
    }
    // Only a message that went out can be opened: marking a pending one would block its cancel
    // while it still goes out, and count an open that never happened.
    const unsent = owned
      .filter((r) => !SENT.has(r.status))
      .map((r) => ({ deliveryId: r.id, status: r.status }));
    if (unsent.length > 0) {
      throw new ApiError(
        409,
        'not_sent',
        'opened and clicked can be reported only for a delivery that was sent',
        { deliveries: unsent },
      );
    }
    const results = await this.recorder.recordAll(
      events.map((e) => ({ deliveryId: e.deliveryId, status: e.type, source: 'client' })),
    );
    return {
      results: events.map((e, i) => ({
        deliveryId: e.deliveryId,
        type: e.type,
        changed: results[i] === 'changed',
      })),
    };
  }
}
