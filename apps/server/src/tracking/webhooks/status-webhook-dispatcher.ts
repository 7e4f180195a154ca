import { FINISHED_JOBS_KEPT } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { Batcher } from '../../database/batcher';
import { type RecordedStep, StepRecorded } from '../../deliveries/step-recorded';
import { QueueRegistry } from '../../delivery/queue-registry';
import { type StatusWebhook, StatusWebhooks } from './status-webhooks.service';

export const STATUS_WEBHOOK_QUEUE = 'clarion.status-webhooks';
const CACHE_MS = 5000;

export interface StatusWebhookJob {
  webhookId: string;
  event: StatusEvent;
}

/** The steps an app may subscribe a status webhook to. */
const WEBHOOK_STEPS = ['sent', 'delivered', 'failed', 'opened', 'clicked'] as const;

/** One step of one delivery, as a status webhook posts it. */
export interface StatusEvent extends Omit<RecordedStep, 'step' | 'writer'> {
  type: (typeof WEBHOOK_STEPS)[number];
}

/**
 * A recorded step as a status event. Retries are no event (the final failure is); neither is a
 * cancel, which the app itself asked for through the API, a hand-over to a fallback provider
 * (the next provider's outcome is), an expiry, nor being queued.
 */
export function statusEvent(s: RecordedStep): StatusEvent | null {
  const type = WEBHOOK_STEPS.find((t) => t === s.step);
  if (!type) return null;
  return {
    id: s.id,
    type,
    at: s.at,
    appId: s.appId,
    deliveryId: s.deliveryId,
    notificationId: s.notificationId,
    userId: s.userId,
    channel: s.channel,
    plugin: s.plugin,
    providerMessageId: s.providerMessageId,
    reason: s.reason,
    errorCode: s.errorCode,
    errorMessage: s.errorMessage,
  };
}

/**
 * Listens to recorded steps (deliveries/step-recorded.ts) and puts one job per (webhook, event)
 * on a queue of its own, in bulk. Delivery never waits for this: the
 * listener only hands events to a batcher, and a Redis hiccup loses webhook posts, not deliveries.
 */
@Injectable()
export class StatusWebhookDispatcher implements OnModuleInit {
  private readonly log = new Logger('status-webhooks');
  private readonly batcher: Batcher<StatusEvent, undefined>;
  private readonly cache = new Map<string, { hooks: StatusWebhook[]; until: number }>();

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly steps: StepRecorded,
    private readonly hooks: StatusWebhooks,
    private readonly queues: QueueRegistry,
  ) {
    this.batcher = new Batcher((items) => this.flush(items), {
      maxItems: 1000,
      maxWaitMs: 10,
      concurrency: 1,
    });
  }

  onModuleInit(): void {
    this.steps.on((steps) => this.submit(steps));
    this.hooks.onChange((appId) => this.cache.delete(appId));
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private submit(steps: RecordedStep[]): void {
    const now = Date.now();
    for (const s of steps) {
      // An app known (and not changed since) to have no status webhook: nothing to queue. Most apps
      // have none, and a campaign records two steps per delivery.
      if (this.cachedHooks(s.appId, now)?.length === 0) continue;
      const e = statusEvent(s);
      if (!e) continue;
      this.batcher
        .submit(e)
        .catch((error: Error) => this.log.warn(`status webhook not queued: ${error.message}`));
    }
  }

  /** An app's webhooks as cached, while the cache entry is fresh; undefined when it must be read. */
  private cachedHooks(appId: string, now: number): StatusWebhook[] | undefined {
    const cached = this.cache.get(appId);
    return cached && cached.until >= now ? cached.hooks : undefined;
  }

  private async hooksFor(appIds: string[]): Promise<Map<string, StatusWebhook[]>> {
    const now = Date.now();
    const missing = appIds.filter((id) => this.cachedHooks(id, now) === undefined);
    if (missing.length > 0) {
      const found = await this.hooks.forApps(missing);
      for (const id of missing)
        this.cache.set(id, { hooks: found.filter((h) => h.appId === id), until: now + CACHE_MS });
    }
    return new Map(appIds.map((id) => [id, this.cache.get(id)?.hooks ?? []]));
  }

  private async flush(events: StatusEvent[]): Promise<undefined[]> {
    const hooks = await this.hooksFor([...new Set(events.map((e) => e.appId))]);
    const jobs = events.flatMap((event) =>
      (hooks.get(event.appId) ?? [])
        .filter((h) => (h.events as string[]).includes(event.type))
        .map((h) => ({
          name: 'post',
          data: { webhookId: h.id, event } satisfies StatusWebhookJob,
          opts: {
            jobId: `${h.id}.${event.id}`, // the same step twice is one post
            attempts: this.env.CLARION_STATUS_WEBHOOK_ATTEMPTS,
            backoff: { type: 'exponential', delay: this.env.CLARION_STATUS_WEBHOOK_BACKOFF_MS, jitter: 0.3 },
            removeOnComplete: FINISHED_JOBS_KEPT.removeOnComplete,
            // A receiver down for days must not fill Redis with failed posts: a week, the newest 10,000.
            removeOnFail: { age: 7 * 86400, count: FINISHED_JOBS_KEPT.removeOnFail.count },
          },
        })),
    );
    if (jobs.length > 0) await this.queues.named(STATUS_WEBHOOK_QUEUE).addBulk(jobs);
    return events.map(() => undefined);
  }
}
