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
import { backlogLimit, recipientsPerChunk } from './chunk-sizing';
import type { FanoutJobData } from './fanout-job';
import { FanoutRepository } from './fanout-repository';

/** How long a fan-out waits before it looks at a full queue again. */
const FANOUT_BACKLOG_WAIT_MS = 2000;

/**
 * Expands a large audience in chunks: each chunk goes through the accept pipeline (its deliveries
 * inserted idempotently, `queued`: a retried chunk inserts nothing twice; then enqueued, and a job
 * lost between the two is re-added by the queue reconciler), then the cursor is
 * saved on the job so a killed worker resumes where it stopped. While a plugin queue it feeds
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
   * early rather than fill Redis.
   */
  private async fullQueue(
    plugins: string[],
    ctx: PlanContext,
    jobBytes: Map<string, number>,
  ): Promise<{ plugin: string; jobs: number; limit: number } | undefined> {
    if (this.env.CLARION_FANOUT_MAX_BACKLOG === 0) return undefined;
    const largest = Math.max(0, ...jobBytes.values());
    for (const plugin of plugins) {
      const channel = ctx.registry.get(plugin)?.channel;
      const limit = backlogLimit(
        this.env.CLARION_FANOUT_MAX_BACKLOG,
        this.env.CLARION_FANOUT_MAX_BACKLOG_MB * 2 ** 20,
        (channel === undefined ? undefined : jobBytes.get(channel)) ?? largest,
      );
      const counts = await this.queues.forPlugin(plugin).getJobCounts('wait', 'prioritized');
      const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
      if (jobs * DELIVERY_BATCH_SIZE > limit) return { plugin, jobs, limit };
    }
    return undefined;
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
    for (;;) {
      // Canceled meanwhile: stop expanding (deliveries already queued are stopped by the cancel mark).
      if (!(await this.store.stillFanningOut(notificationId))) break;
      const full = await this.fullQueue([...feeds], ctx, jobBytes);
      if (full) {
        this.metrics.fanoutWaits.inc({ plugin: full.plugin });
        this.log.debug(
          `notification ${notificationId}: waiting, queue ${full.plugin} holds ${full.jobs} jobs, up to ${full.jobs * DELIVERY_BATCH_SIZE} deliveries (limit ${full.limit}: CLARION_FANOUT_MAX_BACKLOG and CLARION_FANOUT_MAX_BACKLOG_MB)`,
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
          chunkSize,
        );
        cursor = chunk.at(-1)?.userId ?? cursor;
      } else {
        const ids = request.to.userIds ?? [];
        const start = typeof cursor === 'number' ? cursor : 0;
        const slice = ids.slice(start, start + chunkSize);
        if (slice.length === 0) break;
        const found = await this.recipients.load(appId, [...new Set(slice)]);
        chunk = [...found.values()];
        cursor = start + slice.length;
      }
      if (chunk.length === 0) {
        if (request.to.topic !== undefined) break;
        continue; // a slice of unknown ids: move on
      }
      const fresh = await this.store.notPlannedYet(notificationId, chunk);
      const plans = await this.pipeline.acceptChunk(ctx, fresh, (p) =>
        this.store.writeChunk(notificationId, appId, p, fresh.length),
      );
      total += fresh.length;
      for (const p of plans) if (p.job) feeds.add(p.job.plugin);
      await job.updateData({ ...job.data, ...(cursor !== null ? { cursor } : {}), feeds: [...feeds] });
    }
    await this.store.finish(notificationId);
    this.log.log(`notification ${notificationId}: fanned out to ${total} recipients`);
    return total;
  }
}
