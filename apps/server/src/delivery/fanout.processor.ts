import { WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { AppsService } from '../apps/apps.service';
import { uuidv7Floor } from '../common/ids';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import type { Recipient } from '../contacts/recipient';
import { RecipientLoader } from '../contacts/recipient-loader';
import { insertDeliveries } from '../deliveries/delivery-store';
import { PlanContextService } from '../ingest/plan-context.service';
import type { NotificationRequest } from '../notifications/notification-request';
import { DeliveryMetrics } from '../ops/delivery-metrics';
import { UserCaps } from '../ratelimits/user-caps';
import { planOrSuppress } from '../templates/plan-or-suppress';
import { delayUntil, Enqueuer } from './enqueuer';
import { FANOUT_CHUNK } from './fanout.constants';
import { QueueRegistry } from './queue-registry';

/** How long a fan-out waits before it looks at a full queue again. */
const FANOUT_BACKLOG_WAIT_MS = 2000;

interface FanoutData {
  notificationId: string;
  appId: string;
  /** Resume point: last user id (topic) or next index (id list). */
  cursor?: string | number;
  /** Plugins the chunks so far were queued for: their backlog gates the next chunk. */
  feeds?: string[];
}

/**
 * Expands a large audience in chunks: each chunk's deliveries are inserted (idempotently: a
 * retried chunk inserts nothing twice) and enqueued, then the cursor is saved on the job so a
 * killed worker resumes where it stopped. While a plugin queue it feeds holds more than
 * CLARION_FANOUT_MAX_BACKLOG jobs, it steps aside (delayed, cursor kept): a campaign sent faster
 * than a provider takes it then waits as rows not yet written, not as rendered jobs in Redis.
 *
 * Registered as a BullMQ worker by fanoutProcessorFor (fanout-worker.ts), which sets its job lock.
 */
@Injectable()
export class FanoutProcessor extends WorkerHost {
  private readonly log = new Logger('fanout');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly db: DataSource,
    private readonly apps: AppsService,
    private readonly recipients: RecipientLoader,
    private readonly contexts: PlanContextService,
    private readonly enqueuer: Enqueuer,
    private readonly metrics: DeliveryMetrics,
    private readonly caps: UserCaps,
    private readonly queues: QueueRegistry,
  ) {
    super();
  }

  /**
   * The first queue among `plugins` holding more than the allowed backlog, with its count. Only
   * jobs ready to run count: delayed ones (quiet hours, deferring caps, send times, retry backoff)
   * wait for a time, not for the provider, and a night of quiet hours must not stall a campaign.
   */
  private async fullQueue(plugins: string[]): Promise<{ plugin: string; jobs: number } | undefined> {
    const limit = this.env.CLARION_FANOUT_MAX_BACKLOG;
    if (limit === 0) return undefined;
    for (const plugin of plugins) {
      const counts = await this.queues.forPlugin(plugin).getJobCounts('wait', 'prioritized');
      const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
      if (jobs > limit) return { plugin, jobs };
    }
    return undefined;
  }

  /**
   * The chunk's users without a delivery of this notification yet. A chunk is read again after a
   * crash between its write and its saved cursor (a deploy that outlasts the grace period), and a
   * list may name a user twice: planning such a user again took their caps a second time and
   * repeated their suppressed rows (a row without a contact has no unique index to stop it). Read
   * by user and id range (deliveries_user_id_desc), so the cost does not grow with the campaign.
   */
  private async notPlannedYet(
    notificationId: string,
    createdAt: Date,
    chunk: Recipient[],
  ): Promise<Recipient[]> {
    const planned: { user_id: string }[] = await this.db.query(
      `SELECT DISTINCT user_id FROM deliveries
        WHERE user_id = ANY($1::uuid[]) AND id >= $2::uuid AND notification_id = $3`,
      [
        chunk.map((r) => r.userId),
        // Delivery ids are made after the notification: a floor an hour earlier allows for clock skew.
        uuidv7Floor(new Date(createdAt.getTime() - 3_600_000)),
        notificationId,
      ],
    );
    if (planned.length === 0) return chunk;
    const skip = new Set(planned.map((p) => p.user_id));
    return chunk.filter((r) => !skip.has(r.userId));
  }

  async process(job: Job<FanoutData>, token?: string): Promise<number> {
    const { notificationId, appId } = job.data;
    const [row]: {
      request: NotificationRequest;
      status: string;
      created_at: Date;
      template_version: number | null;
    }[] = await this.db.query(
      'SELECT request, status, created_at, template_version FROM notifications WHERE id = $1 AND app_id = $2',
      [notificationId, appId],
    );
    const app = await this.apps.get(appId);
    if (!row || !app || row.status !== 'fanout') return 0;
    const request = row.request;
    const ctx = await this.contexts.build(
      app,
      notificationId,
      request,
      row.created_at,
      row.template_version ?? undefined,
    );
    let cursor = job.data.cursor ?? null;
    const feeds = new Set(job.data.feeds ?? []);
    let total = 0;
    for (;;) {
      // Canceled meanwhile: stop expanding (deliveries already queued are stopped by the cancel mark).
      const [now]: { status: string }[] = await this.db.query(
        'SELECT status FROM notifications WHERE id = $1',
        [notificationId],
      );
      if (now?.status !== 'fanout') break;
      const full = await this.fullQueue([...feeds]);
      if (full) {
        this.metrics.fanoutWaits.inc({ plugin: full.plugin });
        this.log.debug(
          `notification ${notificationId}: waiting, queue ${full.plugin} holds ${full.jobs} jobs (CLARION_FANOUT_MAX_BACKLOG ${this.env.CLARION_FANOUT_MAX_BACKLOG})`,
        );
        await job.moveToDelayed(Date.now() + FANOUT_BACKLOG_WAIT_MS, token);
        throw new DelayedError(); // BullMQ: not a failure, no attempt spent; the job runs again from its cursor
      }
      let chunk: Recipient[];
      if (request.to.topic !== undefined) {
        chunk = await this.recipients.topicPage(
          appId,
          request.to.topic,
          typeof cursor === 'string' ? cursor : null,
          FANOUT_CHUNK,
        );
        cursor = chunk.at(-1)?.userId ?? cursor;
      } else {
        const ids = request.to.userIds ?? [];
        const start = typeof cursor === 'number' ? cursor : 0;
        const slice = ids.slice(start, start + FANOUT_CHUNK);
        if (slice.length === 0) break;
        const found = await this.recipients.load(appId, [...new Set(slice)]);
        chunk = [...found.values()];
        cursor = start + slice.length;
      }
      if (chunk.length === 0) {
        if (request.to.topic !== undefined) break;
        continue; // a slice of unknown ids: move on
      }
      const fresh = await this.notPlannedYet(notificationId, row.created_at, chunk);
      const plans = fresh.flatMap((r) => planOrSuppress(ctx, r));
      await this.caps.apply(ctx, plans);
      // The rows and the recipient count in one transaction: a chunk read again counts its users once.
      const inserted = await this.db.transaction(async (tx) => {
        const ids = await insertDeliveries(
          tx,
          plans.map((plan) => ({ plan, notificationId, appId })),
        );
        await tx.query('UPDATE notifications SET recipients = recipients + $2 WHERE id = $1', [
          notificationId,
          fresh.length,
        ]);
        return ids;
      });
      const jobs = plans
        .filter((p) => p.job && inserted.has(p.id))
        .map((p) => ({
          job: p.job!,
          delayMs: delayUntil(p.hold?.until),
        }));
      for (const p of plans)
        if (p.status === 'suppressed' && inserted.has(p.id))
          this.metrics.delivery(p.channel, p.plugin, 'suppressed', p.reason);
      for (const p of plans)
        if (p.hold && inserted.has(p.id)) this.metrics.delivery(p.channel, p.plugin, 'held', p.hold.reason);
      await this.enqueuer.enqueue(jobs);
      total += fresh.length;
      for (const p of plans) if (p.job) feeds.add(p.job.plugin);
      await job.updateData({ ...job.data, ...(cursor !== null ? { cursor } : {}), feeds: [...feeds] });
    }
    await this.db.query(`UPDATE notifications SET status = 'accepted' WHERE id = $1 AND status = 'fanout'`, [
      notificationId,
    ]);
    this.log.log(`notification ${notificationId}: fanned out to ${total} recipients`);
    return total;
  }
}
