import type { RedisConnection } from '@clarion/plugin-sdk';
import { gateKeys } from '@clarion/plugin-sdk';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppRecord } from '../../apps/apps.service';
import { ApiError } from '../../common/api-error';
import { TemplateError } from '../../common/errors/template-errors';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import type { Recipient } from '../../contacts/recipient';
import { RecipientLoader } from '../../contacts/recipient-loader';
import type { DeliveryPlan } from '../../deliveries/delivery-plan';
import { type DeadFilter, type DeadRow, DeliveryQueries } from '../../deliveries/delivery-queries';
import { redrive } from '../../deliveries/delivery-store';
import { PlanContextService } from '../../ingest/plan-context.service';
import { planOrSuppress } from '../../ingest/plan-or-suppress';
import type { PlanContext } from '../../ingest/planner';
import { DeliveryMetrics } from '../../metrics/delivery-metrics';
import { NotificationRepository } from '../../notifications/notification-repository';
import { PluginRegistry } from '../../plugins/plugin-registry';
import { KeyLayout } from '../../redis/key-layout';
import { PRODUCER_REDIS } from '../../redis/redis.module';
import type { NotificationRequest } from '../../templates/notification-request';
import { delayUntil, Enqueuer } from '../enqueuer';
import { QueueRegistry } from '../queue-registry';

/** Rows planned and written per round: one query per notification and per users' batch. */
const BATCH = 500;

export interface RedriveResult {
  dryRun: boolean;
  /** Deliveries matched (up to the limit). */
  matched: number;
  /** Queued again as new attempts. */
  redriven: number;
  /** Recorded suppressed: the user's preferences, contacts or the app's settings now stop them. */
  suppressed: number;
  /** Left as they were: changed meanwhile, or their notification or template is gone. */
  skipped: number;
  /** Continue with this cursor and the same filter when the limit was reached; null when done. */
  nextCursor: string | null;
}

interface Decision {
  row: DeadRow;
  plan: DeliveryPlan;
}

/**
 * Sends failed or expired deliveries again. Each is planned anew for its user as they are now
 * (preferences, opt-outs, quiet hours, contacts, the app's providers), with the content of its
 * notification, and keeps its id: its history gains `redriven` and the new attempts after the
 * old ones. A delivery the user's settings now stop is recorded `suppressed` instead.
 */
@Injectable()
export class RedriveService {
  constructor(
    private readonly db: DataSource,
    private readonly queries: DeliveryQueries,
    private readonly notifications: NotificationRepository,
    private readonly recipients: RecipientLoader,
    private readonly contexts: PlanContextService,
    private readonly enqueuer: Enqueuer,
    private readonly queues: QueueRegistry,
    private readonly metrics: DeliveryMetrics,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    @Inject(ENV) private readonly env: Env,
    private readonly plugins: PluginRegistry,
  ) {}

  async redrive(app: AppRecord, filter: DeadFilter, limit: number, dryRun: boolean): Promise<RedriveResult> {
    const result: RedriveResult = {
      dryRun,
      matched: 0,
      redriven: 0,
      suppressed: 0,
      skipped: 0,
      nextCursor: null,
    };
    let cursor = filter.cursor;
    while (result.matched < limit) {
      const rows = await this.queries.dead(
        app.id,
        { ...filter, ...(cursor ? { cursor } : {}) },
        Math.min(BATCH, limit - result.matched),
      );
      if (rows.length === 0) return { ...result, nextCursor: null };
      result.matched += rows.length;
      cursor = rows.at(-1)!.id;
      if (!dryRun) await this.redriveBatch(app, rows, result);
    }
    // A full bound: there may be more (an exact count would read them all).
    return { ...result, nextCursor: cursor ?? null };
  }

  private async redriveBatch(app: AppRecord, rows: DeadRow[], result: RedriveResult): Promise<void> {
    const decisions: Decision[] = [];
    const recipients = await this.loadRecipients(app.id, rows);
    for (const [notificationId, group] of Map.groupBy(rows, (r) => r.notificationId)) {
      const ctx = await this.context(app, notificationId);
      if (!ctx) {
        result.skipped += group.length;
        continue;
      }
      for (const row of group) {
        const recipient = row.userKey ? recipients.get(row.userKey) : undefined;
        const plan = recipient ? planAgain(ctx, row, recipient) : undefined;
        if (plan) decisions.push({ row, plan });
        else result.skipped += 1;
      }
    }
    if (decisions.length === 0) return;
    await this.dropOldJobs(decisions);
    const moved = await this.write(decisions);
    const done = decisions.filter((d) => moved.has(d.row.id));
    result.skipped += decisions.length - done.length;
    for (const d of done) {
      if (d.plan.status === 'suppressed') {
        result.suppressed += 1;
        this.metrics.delivery(d.row.channel, d.plan.plugin, 'suppressed', d.plan.reason);
      } else result.redriven += 1;
    }
    await this.enqueuer.enqueue(
      done.flatMap((d) => (d.plan.job ? [{ job: d.plan.job, delayMs: delayUntil(d.plan.hold?.until) }] : [])),
    );
  }

  /** The planning context of a notification, re-rendered now with its pinned template version. */
  private async context(app: AppRecord, notificationId: string): Promise<PlanContext | undefined> {
    const n = await this.notifications.request(app.id, notificationId);
    if (!n) return undefined;
    try {
      // Accepted now: a TTL counts from the re-drive, or an expired delivery would expire again at once.
      return await this.contexts.build(
        app,
        notificationId,
        n.request,
        new Date(),
        n.templateVersion ?? undefined,
      );
    } catch (error) {
      if (error instanceof TemplateError) return undefined; // its template is gone
      throw error;
    }
  }

  /** The rows' users as they are now, by their internal id. */
  private async loadRecipients(appId: string, rows: DeadRow[]): Promise<Map<string, Recipient>> {
    const external = [...new Set(rows.flatMap((r) => (r.userId ? [r.userId] : [])))];
    const loaded = await this.recipients.load(appId, external);
    return new Map([...loaded.values()].map((r) => [r.userId, r]));
  }

  /**
   * A failed job stays in Redis for inspection under the delivery's id, and a plugin that handed
   * the delivery to a fallback remembers it: both would stop the new job, so they go first.
   */
  private async dropOldJobs(decisions: Decision[]): Promise<void> {
    const layout = new KeyLayout(this.env);
    try {
      await Promise.all(
        decisions.flatMap((d) => {
          const plugins = new Set([d.row.plugin, d.plan.plugin].filter((p): p is string => !!p));
          // Each plugin's hand-on mark lives beside its queue (one key for all on a single node);
          // the plugin that handed it on is no longer the row's, so every loaded plugin's is dropped.
          const released = new Set(
            this.plugins.names().map((p) => gateKeys.released(layout.plugin(p), d.row.id)),
          );
          return [
            ...[...plugins].map((p) => this.queues.forPlugin(p).remove(d.row.id)),
            ...[...released].map((key) => this.redis.del(key)),
          ];
        }),
      );
    } catch (error) {
      throw new ApiError(503, 'unavailable', `the queue is unavailable: ${(error as Error).message}`, {
        retryable: true,
      });
    }
  }

  /** Moves the deliveries still failed or expired to their new state, with a history step; returns those moved. */
  private write(decisions: Decision[]): Promise<Set<string>> {
    return redrive(
      this.db,
      decisions.map((d) => ({
        id: d.row.id,
        status: d.plan.status,
        reason: d.plan.reason,
        plugin: d.plan.plugin,
        jobJson: d.plan.job ? JSON.stringify(d.plan.job) : null,
        heldUntil: d.plan.hold?.until ?? null,
        linksJson: d.plan.links ? JSON.stringify(d.plan.links) : null,
      })),
    );
  }
}

/**
 * Plans one delivery again: only its channel, only its contact (the app's webhook URL when it
 * had none), under its own id. Links are tracked again only where they were.
 */
function planAgain(ctx: PlanContext, row: DeadRow, recipient: Recipient): DeliveryPlan | undefined {
  const narrowed: PlanContext = {
    ...ctx,
    request: { ...ctx.request, channels: [row.channel] } as NotificationRequest,
  };
  if (row.tracked && ctx.rewriteLinks) {
    const rewrite = ctx.rewriteLinks;
    narrowed.rewriteLinks = (channel, content) => rewrite(channel, content, row.id);
  } else delete narrowed.rewriteLinks;
  const contacts = recipient.contacts.filter((c) => c.id === row.contactId);
  const plans = planOrSuppress(narrowed, { ...recipient, contacts });
  const plan = plans.find((p) => p.status === 'pending') ?? plans[0];
  if (!plan) return undefined;
  return {
    ...plan,
    id: row.id,
    ...(plan.job ? { job: { ...plan.job, deliveryId: row.id } } : {}),
  };
}
