import { DELIVERY_BATCH_SIZE } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { AppsService } from '../apps/apps.service';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import type { Recipient } from '../contacts/recipient';
import { RecipientLoader } from '../contacts/recipient-loader';
import { QueueRegistry } from '../delivery/queue-registry';
import { AcceptPipeline } from '../ingest/accept-pipeline';
import { jobBytesByChannel, jobBytesPerRecipient } from '../ingest/job-bytes';
import { PlanContextService } from '../ingest/plan-context.service';
import type { PlanContext } from '../ingest/planner';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import type { NotificationRequest } from '../templates/notification-request';
import { backlogLimit, recipientsPerChunk } from './chunk-sizing';
import type { FanoutJobData } from './fanout-job';
import { FanoutRepository } from './fanout-repository';
import { readyJobsByPlugin } from './ready-jobs';

/** A chunk in flight (rows, count, enqueue, then its cursor saved after the chunk before), its users and its jobs by plugin. */
interface ChunkWrite {
  done: Promise<void>;
  users: Set<string>;
  jobs: Map<string, number>;
}

/** How long a fan-out waits before it looks at a full queue again. */
const FANOUT_BACKLOG_WAIT_MS = 2000;

/**
 * Expands a large audience in chunks: each chunk goes through the accept pipeline (its deliveries
 * inserted idempotently, `queued`: a retried chunk inserts nothing twice; then enqueued, and a job
 * lost between the two is re-added by the queue reconciler), then the cursor is
 * saved on the job so a killed worker resumes where it stopped. Two chunks are in flight: the next
 * is read, rendered, capped and written while the last is still being written and enqueued (a
 * newsletter's chunk spends most of its time there, in PostgreSQL and Redis); cursors are saved
 * in order, and chunks are sized for two at once (chunk-sizing.ts). While a plugin queue it feeds
 * holds more than CLARION_FANOUT_MAX_BACKLOG jobs, it steps aside (delayed, cursor kept): a
 * campaign sent faster than a provider takes it then waits as rows not yet written, not as
 * rendered jobs in Redis. Run by FanoutWorker (fanout-worker.ts).
 */
@Injectable()
export class FanoutProcessor {
  private readonly log = new Logger('fanout');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly store: FanoutRepository,
    private readonly apps: AppsService,
    private readonly recipients: RecipientLoader,
    private readonly contexts: PlanContextService,
    private readonly pipeline: AcceptPipeline,
    private readonly metrics: DeliveryMetrics,
    private readonly queues: QueueRegistry,
  ) {}

  /**
   * The first queue among `plugins` holding more deliveries ready to run than it may (backlogLimit:
   * CLARION_FANOUT_MAX_BACKLOG, and CLARION_FANOUT_MAX_BACKLOG_MB of this notification's jobs on
   * the plugin's channel), with its job count and that limit. Only jobs ready to run count: delayed
   * ones (quiet hours, deferring caps, send times, retry backoff) wait for a time, not for the
   * provider, and a night of quiet hours must not stall a campaign. A job counts as a full batch
   * (DELIVERY_BATCH_SIZE deliveries): Redis holds job counts, not delivery counts, and a campaign's
   * jobs are batches; a queue of single jobs is thus over-counted, and the campaign waits a little
   * early rather than fill Redis. `inFlight`: the jobs of the chunk being written, counted as if
   * enqueued already (they may be: then counted twice, and the caller asks again once it is written).
   */
  private async fullQueue(
    plugins: Set<string>,
    ctx: PlanContext,
    jobBytes: Map<string, number>,
    inFlight = new Map<string, number>(),
  ): Promise<{ plugin: string; jobs: number; limit: number } | undefined> {
    if (this.env.CLARION_FANOUT_MAX_BACKLOG === 0) return undefined;
    const largest = Math.max(0, ...jobBytes.values());
    for (const plugin of new Set([...plugins, ...inFlight.keys()])) {
      const channel = ctx.registry.get(plugin)?.channel;
      const limit = backlogLimit(
        this.env.CLARION_FANOUT_MAX_BACKLOG,
        this.env.CLARION_FANOUT_MAX_BACKLOG_MB * 2 ** 20,
        (channel === undefined ? undefined : jobBytes.get(channel)) ?? largest,
      );
      const counts = await this.queues.forPlugin(plugin).getJobCounts('wait', 'prioritized');
      const jobs = Object.values(counts).reduce((a, b) => a + b, 0) + (inFlight.get(plugin) ?? 0);
      if (jobs * DELIVERY_BATCH_SIZE > limit) return { plugin, jobs, limit };
    }
    return undefined;
  }

  /**
   * The audience's next chunk from `cursor`: a topic's next page (keyset by user id) or a list's
   * next slice (by position; its unknown ids dropped, so a chunk may be empty). Undefined at the end.
   */
  private async nextPage(
    appId: string,
    to: NotificationRequest['to'],
    cursor: string | number | null,
    size: number,
  ): Promise<{ recipients: Recipient[]; cursor: string | number | null } | undefined> {
    if (to.topic !== undefined) {
      const recipients = await this.recipients.topicPage(
        appId,
        to.topic,
        typeof cursor === 'string' ? cursor : null,
        size,
      );
      const last = recipients.at(-1);
      return last ? { recipients, cursor: last.userId } : undefined;
    }
    const ids = to.userIds ?? [];
    const start = typeof cursor === 'number' ? cursor : 0;
    const slice = ids.slice(start, start + size);
    if (slice.length === 0) return undefined;
    const found = await this.recipients.load(appId, [...new Set(slice)]);
    return { recipients: [...found.values()], cursor: start + slice.length };
  }

  async process(job: Job<FanoutJobData>, token?: string): Promise<number> {
    const { notificationId, appId } = job.data;
    const row = await this.store.notification(notificationId, appId);
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
    // Chunks and the backlog are sized by the content's bytes: a newsletter's HTML is 50 KB a job.
    const jobBytes = jobBytesByChannel(ctx);
    const chunkSize = recipientsPerChunk(jobBytesPerRecipient(ctx));
    let cursor = job.data.cursor ?? null;
    const feeds = new Set(job.data.feeds ?? []);
    let total = 0;
    // The last chunk started, still being written while the next one is read, rendered and written.
    let writing: ChunkWrite | undefined;
    try {
      for (;;) {
        // Canceled meanwhile: stop expanding (deliveries already queued are stopped by the cancel mark).
        if (!(await this.store.stillFanningOut(notificationId))) break;
        let full = await this.fullQueue(feeds, ctx, jobBytes, writing?.jobs);
        if (full && writing) {
          // Maybe counted twice: ask again once the chunk is written (the cursor saved is then its own).
          await writing.done;
          writing = undefined;
          full = await this.fullQueue(feeds, ctx, jobBytes);
        }
        if (full) {
          this.metrics.fanoutWaits.inc({ plugin: full.plugin });
          this.log.debug(
            `notification ${notificationId}: waiting, queue ${full.plugin} holds ${full.jobs} jobs, up to ${full.jobs * DELIVERY_BATCH_SIZE} deliveries (limit ${full.limit}: CLARION_FANOUT_MAX_BACKLOG and CLARION_FANOUT_MAX_BACKLOG_MB)`,
          );
          await job.moveToDelayed(Date.now() + FANOUT_BACKLOG_WAIT_MS, token);
          throw new DelayedError(); // BullMQ: not a failure, no attempt spent; the job runs again from its cursor
        }
        const page = await this.nextPage(appId, request.to, cursor, chunkSize);
        if (!page) break;
        cursor = page.cursor;
        if (page.recipients.length === 0) continue; // a slice of unknown ids: move on
        // A list may name a user in this chunk and in the one being written, not committed yet.
        const inFlight = writing?.users;
        const fresh = (await this.store.notPlannedYet(notificationId, page.recipients)).filter(
          (r) => !inFlight?.has(r.userId),
        );
        const plans = await this.pipeline.planChunk(ctx, fresh);
        const saved = cursor;
        const previous = writing?.done;
        // Written alongside the previous chunk; its cursor is saved after the previous one's.
        const stored = this.pipeline.storeChunk(plans, (p) =>
          this.store.writeChunk(notificationId, appId, p, fresh.length),
        );
        const done = (async () => {
          await stored;
          await previous;
          total += fresh.length;
          for (const p of plans) if (p.job) feeds.add(p.job.plugin);
          await job.updateData({
            ...job.data,
            ...(saved !== null ? { cursor: saved } : {}),
            feeds: [...feeds],
          });
        })();
        done.catch(() => undefined); // awaited at the next turn; not an unhandled rejection meanwhile
        writing = { done, users: new Set(fresh.map((r) => r.userId)), jobs: readyJobsByPlugin(plans) };
        await previous; // two chunks in flight at most
      }
      await writing?.done;
    } finally {
      // Never leave a write running behind an error: the job's retry would plan its users again.
      await writing?.done.catch(() => undefined);
    }
    await this.store.finish(notificationId);
    this.log.log(`notification ${notificationId}: fanned out to ${total} recipients`);
    return total;
  }
}
