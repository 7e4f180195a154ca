import type { RedisConnection } from '@clarion/plugin-sdk';
import { CancelMarks } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/api-error';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import {
  cancelablePage,
  canceledPage,
  cancelTarget,
  cancelUnsent,
  cancelWaitingSteps,
  hasCancelable,
  markNotificationCanceled,
  waitingStepCount,
} from '../deliveries/delivery-store';
import { StepRecorded } from '../deliveries/step-recorded';
import { QueueRegistry } from '../delivery/queue-registry';
import { FanoutQueue } from '../fanout/fanout-queue';
import { PluginRegistry } from '../plugins/plugin-registry';
import { KeyLayout } from '../redis/key-layout';
import { PRODUCER_REDIS } from '../redis/redis.module';
import { SchedulingMetrics } from './scheduling-metrics';

/**
 * Deliveries read, checked in flight, canceled and their jobs removed per step: a campaign of a
 * million deliveries cancels in pages of this size, its memory bounded by one page.
 */
export const CANCEL_PAGE = 1000;

export interface CancelResult {
  id: string;
  status: 'canceled';
  /** Deliveries marked canceled now. */
  canceled: number;
  /** Deliveries a worker had already started: they finish this attempt; a retry would be canceled. */
  inFlight: number;
  /** Escalation steps still waiting (one per step × user), now never planned. */
  steps: number;
}

/**
 * Cancels a notification: first the Redis cancel mark (from then on no worker starts one of its
 * deliveries: see SendGate), then PostgreSQL (notification and not-yet-started deliveries
 * `canceled`, with an event each), then, after the answer, its jobs are removed from the queues.
 * Removal is only tidiness: a job that survives (active at that instant, or re-added) meets the
 * mark and is reported canceled without a send.
 */
@Injectable()
export class NotificationCanceler {
  private readonly log = new Logger('cancel');
  /** One set of cancel marks per distinct plugin queue prefix: on a cluster, beside each queue's gate. */
  private readonly marks: Map<string, CancelMarks>;

  constructor(
    @Inject(ENV) env: Env,
    @Inject(PRODUCER_REDIS) redis: RedisConnection,
    private readonly db: DataSource,
    private readonly queues: QueueRegistry,
    private readonly steps: StepRecorded,
    private readonly fanouts: FanoutQueue,
    private readonly scheduling: SchedulingMetrics,
    plugins: PluginRegistry,
  ) {
    const layout = new KeyLayout(env);
    const prefixes = new Set(plugins.names().map((p) => layout.plugin(p)));
    if (prefixes.size === 0) prefixes.add(env.CLARION_QUEUE_PREFIX);
    this.marks = new Map([...prefixes].map((p) => [p, new CancelMarks(redis, p)]));
    this.prefixOf = (plugin) => layout.plugin(plugin);
  }

  private readonly prefixOf: (plugin: string) => string;

  /** Marks the notification canceled at every plugin's gate. */
  private async mark(id: string, lastDue: Date | undefined): Promise<void> {
    await Promise.all([...this.marks.values()].map((m) => m.mark(id, lastDue)));
  }

  private async unmark(id: string): Promise<void> {
    await Promise.all([...this.marks.values()].map((m) => m.unmark(id)));
  }

  /** Which deliveries a worker has started, asked at their plugin's gate (every gate where none is set yet). */
  private async inFlight(candidates: { id: string; plugin: string | null }[]): Promise<Set<string>> {
    const byMarks = new Map<CancelMarks, string[]>();
    for (const c of candidates) {
      const own = c.plugin ? this.marks.get(this.prefixOf(c.plugin)) : undefined;
      for (const m of own ? [own] : this.marks.values()) {
        const ids = byMarks.get(m);
        if (ids) ids.push(c.id);
        else byMarks.set(m, [c.id]);
      }
    }
    const found = await Promise.all([...byMarks].map(([m, ids]) => m.inFlight(ids)));
    return new Set(found.flatMap((f) => [...f]));
  }

  async cancel(appId: string, id: string): Promise<CancelResult> {
    const n = await cancelTarget(this.db, appId, id);
    if (!n) throw new NotFoundError('notification');
    if (n.status === 'canceled')
      throw new ConflictError('already_canceled', `notification ${id} is already canceled`);
    const nothingQueued = n.status !== 'fanout' && !n.dueLater && !(await hasCancelable(this.db, id));
    // An escalation step still waiting is something left to send.
    if (nothingQueued && (await waitingStepCount(this.db, id)) === 0) {
      throw new ConflictError(
        'already_sent',
        `notification ${id} has nothing left to send (its deliveries are sent, failed, expired or suppressed); it cannot be canceled`,
      );
    }

    // The mark first, and the first page's in-flight check, before anything changes in PostgreSQL:
    // Redis away at the start is a 503 with nothing changed, as it always was.
    let page = await cancelablePage(this.db, id, null, CANCEL_PAGE);
    let started: Set<string>;
    try {
      await this.mark(id, n.lastDue ?? undefined);
      // Asked after the mark: a delivery not in flight now never starts (its job meets the mark).
      started = await this.inFlight(page);
    } catch (error) {
      // Best effort: a mark left behind only makes workers report these deliveries canceled (nothing is sent).
      await this.unmark(id).catch(() => undefined);
      throw new ApiError(
        503,
        'unavailable',
        'cannot reach Redis to cancel safely; nothing was changed, try again',
        { cause: (error as Error).message },
      );
    }
    // The row lock makes two concurrent cancels take turns; the second finds it canceled. Committed
    // before the pages: from here on the notification is canceled (the mark stops every job), and
    // each page below brings a thousand of its deliveries' rows up to date in its own statement.
    // Waiting escalation steps in the same transaction: a step the relay is planning right now is
    // waited for (its row lock), and one it takes later finds the notification canceled.
    const steps = await this.db.transaction(async (tx) =>
      (await markNotificationCanceled(tx, id)) ? cancelWaitingSteps(tx, id) : undefined,
    );
    if (steps === undefined)
      throw new ConflictError('already_canceled', `notification ${id} is already canceled`);
    this.scheduling.canceled.inc();

    let canceled = 0;
    let inFlight = 0;
    for (;;) {
      const done = await cancelUnsent(
        this.db,
        id,
        page.filter((d) => !started.has(d.id)).map((d) => d.id),
      );
      canceled += done.length;
      inFlight += started.size;
      this.emitCanceled(appId, id, done);
      if (page.length < CANCEL_PAGE) break;
      page = await cancelablePage(this.db, id, page.at(-1)!.id, CANCEL_PAGE);
      if (page.length === 0) break;
      try {
        started = await this.inFlight(page);
      } catch (error) {
        // Redis lost mid-way: this page's rows are left as they are (counted neither canceled nor in
        // flight). None of them is sent, the mark is set: each job, once Redis is back, meets it and
        // reports its delivery canceled.
        this.log.warn(
          `notification ${id}: ${page.length} deliveries left to their workers to cancel: ${(error as Error).message}`,
        );
        started = new Set(page.map((d) => d.id));
        inFlight -= started.size;
      }
    }
    // Tidiness, not safety (the mark stops every job): after the answer, so canceling a campaign of a
    // million deliveries does not keep its caller waiting for a million removals.
    void this.removeJobs(id).catch((error: unknown) =>
      this.log.warn(`notification ${id}: removing its jobs failed: ${(error as Error).message}`),
    );
    return { id, status: 'canceled', canceled, inFlight, steps };
  }

  private emitCanceled(
    appId: string,
    notificationId: string,
    canceled: { id: string; channel: string; plugin: string | null }[],
  ): void {
    const at = new Date().toISOString();
    this.steps.emit(
      canceled.map((d) => ({
        id: `${d.id}.canceled`,
        step: 'canceled',
        writer: 'cancel',
        at,
        appId,
        deliveryId: d.id,
        notificationId,
        userId: null,
        channel: d.channel,
        plugin: d.plugin,
        providerMessageId: null,
        reason: 'canceled',
        errorCode: null,
        errorMessage: null,
      })),
    );
  }

  /**
   * Best effort (the cancel mark already stops them): removes the fan-out job, then the delayed and
   * waiting jobs of the canceled deliveries (never active ones), read back page by page.
   */
  private async removeJobs(notificationId: string): Promise<void> {
    let failed = 0;
    const settle = async (removals: Promise<unknown>[]) => {
      failed += (await Promise.allSettled(removals)).filter((r) => r.status === 'rejected').length;
    };
    await settle([this.fanouts.remove(notificationId)]);
    let after: string | null = null;
    for (;;) {
      const page = await canceledPage(this.db, notificationId, after, CANCEL_PAGE);
      if (page.length === 0) break;
      after = page.at(-1)!.id;
      await settle(page.map((d) => this.queues.forPlugin(d.plugin).remove(d.id)));
      if (page.length < CANCEL_PAGE) break;
    }
    if (failed > 0)
      this.log.warn(
        `notification ${notificationId}: ${failed} jobs not removed (they will be reported canceled when they run)`,
      );
  }
}
