import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { AppsService } from '../apps/apps.service';
import type { Recipient } from '../contacts/recipient';
import { RecipientLoader } from '../contacts/recipient-loader';
import { PlanContextService } from '../ingest/plan-context.service';
import { insertDeliveries } from '../ingest/write-deliveries';
import type { NotificationRequest } from '../notifications/notification-request';
import { DeliveryMetrics } from '../ops/delivery-metrics';
import { UserCaps } from '../ratelimits/user-caps';
import { planOrSuppress } from '../templates/plan-or-suppress';
import { Enqueuer } from './enqueuer';
import { FANOUT_CHUNK, FANOUT_QUEUE } from './fanout.constants';

interface FanoutData {
  notificationId: string;
  appId: string;
  /** Resume point: last user id (topic) or next index (id list). */
  cursor?: string | number;
}

/**
 * Expands a large audience in chunks: each chunk's deliveries are inserted (idempotently: a
 * retried chunk inserts nothing twice) and enqueued, then the cursor is saved on the job so a
 * killed worker resumes where it stopped.
 */
@Processor(FANOUT_QUEUE, { concurrency: 2 })
export class FanoutProcessor extends WorkerHost {
  private readonly log = new Logger('fanout');

  constructor(
    private readonly db: DataSource,
    private readonly apps: AppsService,
    private readonly recipients: RecipientLoader,
    private readonly contexts: PlanContextService,
    private readonly enqueuer: Enqueuer,
    private readonly metrics: DeliveryMetrics,
    private readonly caps: UserCaps,
  ) {
    super();
  }

  async process(job: Job<FanoutData>): Promise<number> {
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
    let total = 0;
    for (;;) {
      // Canceled meanwhile: stop expanding (deliveries already queued are stopped by the cancel mark).
      const [now]: { status: string }[] = await this.db.query(
        'SELECT status FROM notifications WHERE id = $1',
        [notificationId],
      );
      if (now?.status !== 'fanout') break;
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
      const plans = chunk.flatMap((r) => planOrSuppress(ctx, r));
      await this.caps.apply(ctx, plans);
      const inserted = await insertDeliveries(
        this.db,
        plans.map((plan) => ({ plan, notificationId, appId })),
      );
      const jobs = plans
        .filter((p) => p.job && inserted.has(p.id))
        .map((p) => ({
          job: p.job!,
          delayMs: p.hold ? Math.max(0, Date.parse(p.hold.until) - Date.now()) : 0,
        }));
      for (const p of plans)
        if (p.status === 'suppressed' && inserted.has(p.id))
          this.metrics.delivery(p.channel, p.plugin, 'suppressed', p.reason);
      for (const p of plans)
        if (p.hold && inserted.has(p.id)) this.metrics.delivery(p.channel, p.plugin, 'held', p.hold.reason);
      await this.enqueuer.enqueue(jobs);
      await this.db.query('UPDATE notifications SET recipients = recipients + $2 WHERE id = $1', [
        notificationId,
        chunk.length,
      ]);
      total += chunk.length;
      await job.updateData({ ...job.data, ...(cursor !== null ? { cursor } : {}) });
    }
    await this.db.query(`UPDATE notifications SET status = 'accepted' WHERE id = $1 AND status = 'fanout'`, [
      notificationId,
    ]);
    this.log.log(`notification ${notificationId}: fanned out to ${total} recipients`);
    return total;
  }
}
