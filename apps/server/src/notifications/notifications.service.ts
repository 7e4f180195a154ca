import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { RecipientLoader } from '../contacts/recipient-loader';
import { delayUntil, Enqueuer } from '../delivery/enqueuer';
import { FANOUT_QUEUE } from '../delivery/fanout.constants';
import { QueueRegistry } from '../delivery/queue-registry';
import type { DeliveryPlan } from '../ingest/delivery-plan';
import { NotificationStore, type StoreResult } from '../ingest/notification-store';
import { PlanContextService } from '../ingest/plan-context.service';
import { checkBeforeFanout, planRecipient } from '../ingest/planner';
import { DeliveryMetrics } from '../ops/delivery-metrics';
import { ClientSmsBudget } from '../ratelimits/client-sms-budget';
import { UserCaps } from '../ratelimits/user-caps';
import { fanoutJobOptions } from '../scheduling/fanout-job';
import type { NotificationRequest } from './notification-request';
import { assertVerifiedSender } from './verified-sender';

export interface AcceptResult {
  status: 202 | 200;
  body: { id: string; status: string; duplicate?: boolean; deliveries?: number; suppressed?: number };
}

/** Canonical JSON (sorted keys) so the same body in another key order is still "the same". */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The request path: resolve recipients, plan and render deliveries, persist (group commit,
 * event id claimed in the same transaction), answer, then enqueue. Large audiences are
 * persisted as one notification and expanded by a fan-out job.
 */
@Injectable()
export class NotificationsService {
  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly recipients: RecipientLoader,
    private readonly store: NotificationStore,
    private readonly enqueuer: Enqueuer,
    private readonly queues: QueueRegistry,
    private readonly contexts: PlanContextService,
    private readonly metrics: DeliveryMetrics,
    private readonly caps: UserCaps,
    private readonly smsBudget: ClientSmsBudget,
  ) {}

  /** `clientSent`: sent with a client key (links untracked, SMS budgeted, no other request's id answered). */
  async accept(app: AppRecord, request: NotificationRequest, clientSent = false): Promise<AcceptResult> {
    const id = newId();
    const acceptedAt = new Date();
    // Only a repeated eventId is compared with its first body; without one there is nothing to hash.
    const bodyHash =
      request.eventId === undefined ? '' : createHash('sha256').update(canonical(request)).digest('hex');
    const ctx = await this.contexts.build(app, id, request, acceptedAt, undefined, clientSent);
    assertVerifiedSender(app.settings, [ctx.contents, ...Object.values(ctx.template?.locales ?? {})]);
    const scheduled = request.sendAt !== undefined && Date.parse(request.sendAt) > acceptedAt.getTime();
    const userIds = request.to.userId !== undefined ? [request.to.userId] : request.to.userIds;
    const fanout =
      request.to.topic !== undefined || (userIds?.length ?? 0) > this.env.CLARION_FANOUT_THRESHOLD;
    if (fanout) checkBeforeFanout(ctx); // users are planned later: refuse what the request itself gets wrong now

    let plans: DeliveryPlan[] = [];
    if (!fanout && userIds) {
      const found = await this.recipients.load(app.id, [...new Set(userIds)]);
      for (const uid of new Set(userIds)) {
        const recipient = found.get(uid);
        if (recipient) plans.push(...planRecipient(ctx, recipient));
        else
          plans.push({
            id: newId(),
            userId: null,
            contactId: null,
            channel: '*',
            plugin: null,
            status: 'suppressed',
            reason: 'unknown_user',
            job: null,
          });
      }
    }
    // Unknown users are reported in the response but not stored as deliveries (no user row to point at).
    const unknown = plans.filter((p) => p.reason === 'unknown_user').length;
    plans = plans.filter((p) => p.reason !== 'unknown_user');
    const undoCaps = await this.caps.apply(ctx, plans);
    const undoBudget = await this.takeSmsBudget(app, request, plans, clientSent).catch(async (error) => {
      await undoCaps().catch(() => undefined);
      throw error;
    });

    let result: StoreResult;
    try {
      result = await this.store.save({
        id,
        appId: app.id,
        eventId: request.eventId ?? null,
        bodyHash,
        status: fanout ? 'fanout' : scheduled ? 'scheduled' : 'accepted',
        category: request.category ?? null,
        priority: request.priority,
        request,
        sendAt: request.sendAt ?? null,
        expiresAt: ctx.expiresAt ?? null,
        recipients: fanout ? 0 : new Set(userIds).size - unknown,
        plans,
        templateKey: ctx.template?.key ?? null,
        templateVersion: ctx.template?.version ?? null,
      });
    } catch (error) {
      await undoCaps().catch(() => undefined);
      await undoBudget().catch(() => undefined);
      throw error;
    }
    if (result.outcome === 'duplicate') {
      await undoCaps().catch(() => undefined); // a repeat sends nothing, so it uses no cap
      await undoBudget().catch(() => undefined);
      this.metrics.deduplicated.inc();
      if (result.bodyHash !== bodyHash) {
        throw new ApiError(
          409,
          'event_id_conflict',
          'this eventId was already used with a different body',
          // A client's eventIds are its user's own, but a client key still learns no notification id.
          clientSent ? undefined : { notificationId: result.notificationId },
        );
      }
      return { status: 200, body: { id: result.notificationId, status: 'duplicate', duplicate: true } };
    }
    this.metrics.accepted.inc();
    for (const p of plans)
      if (p.status === 'suppressed') this.metrics.delivery(p.channel, p.plugin, 'suppressed', p.reason);
    for (const p of plans) if (p.hold) this.metrics.delivery(p.channel, p.plugin, 'held', p.hold.reason);

    const delayMs = scheduled ? delayUntil(request.sendAt) : 0;
    if (fanout) {
      await this.queues
        .named(FANOUT_QUEUE)
        .add('fanout', { notificationId: id, appId: app.id }, fanoutJobOptions(id, request.priority, delayMs))
        .catch(() => undefined); // stays `fanout` in PostgreSQL; the sweeper re-adds it
    } else {
      // Durable already: answer without waiting for Redis. Failures leave deliveries pending for the sweeper.
      void this.enqueuer.enqueue(
        plans
          .filter((p) => p.job)
          .map((p) => ({ job: p.job!, delayMs: Math.max(delayMs, delayUntil(p.hold?.until)) })),
      );
    }
    return {
      status: 202,
      body: {
        id,
        status: scheduled ? 'scheduled' : fanout ? 'fanout' : 'accepted',
        ...(fanout
          ? {}
          : {
              deliveries: plans.filter((p) => p.status === 'pending').length,
              suppressed: plans.length - plans.filter((p) => p.status === 'pending').length + unknown,
            }),
      },
    };
  }

  /** A client-sent notification's SMS come out of its user's daily budget (429 when spent). */
  private async takeSmsBudget(
    app: AppRecord,
    request: NotificationRequest,
    plans: DeliveryPlan[],
    clientSent: boolean,
  ): Promise<() => Promise<void>> {
    const sms = plans.filter((p) => p.channel === 'sms' && p.status === 'pending').length;
    const userId = request.to.userId;
    if (!clientSent || sms === 0 || userId === undefined) return async () => undefined;
    return this.smsBudget.take(app.id, userId, sms, app.settings.clientSmsPerDay);
  }
}
