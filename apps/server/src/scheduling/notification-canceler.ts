import type { RedisConnection } from '@clarion/plugin-sdk';
import { CancelMarks } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/api-error';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import {
  cancelableDeliveries,
  cancelTarget,
  cancelUnsent,
  cancelWaitingSteps,
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
      for (const m of own ? [own] : this.marks.values()) byMarks.set(m, [...(byMarks.get(m) ?? []), c.id]);
    }
    const found = await Promise.all([...byMarks].map(([m, ids]) => m.inFlight(ids)));
    return new Set(found.flatMap((f) => [...f]));
  }

  async cancel(appId: string, id: string): Promise<CancelResult> {
    const n = await cancelTarget(this.db, appId, id);
    if (!n) throw new NotFoundError('notification');
    if (n.status === 'canceled')
      throw new ConflictError('already_canceled', `notification ${id} is already canceled`);
    const candidates = await cancelableDeliveries(this.db, id);
    const nothingQueued = candidates.length === 0 && n.status !== 'fanout' && !n.dueLater;
    // An escalation step still waiting is something left to send.
    if (nothingQueued && (await waitingStepCount(this.db, id)) === 0) {
      throw new ConflictError(
        'already_sent',
        `notification ${id} has nothing left to send (its deliveries are sent, failed, expired or suppressed); it cannot be canceled`,
      );
    }

    let inFlight: Set<string>;
    try {
      await this.mark(id, n.lastDue ?? undefined);
      inFlight = await this.inFlight(candidates);
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

    const { canceled, steps } = await this.db.transaction(async (tx) => {
      // The row lock makes two concurrent cancels take turns; the second finds it canceled.
      if (!(await markNotificationCanceled(tx, id)))
        throw new ConflictError('already_canceled', `notification ${id} is already canceled`);
      // Steps first: a step the relay is planning right now is waited for, so the deliveries it
      // writes are there for cancelUnsent's own (later) snapshot to cancel.
      const steps = await cancelWaitingSteps(tx, id);
      return { canceled: await cancelUnsent(tx, id, [...inFlight]), steps };
    });

    this.scheduling.canceled.inc();
    const at = new Date().toISOString();
    this.steps.emit(
      canceled.map((d) => ({
        id: `${d.id}.canceled`,
        step: 'canceled',
        writer: 'cancel',
        at,
        appId,
        deliveryId: d.id,
        notificationId: id,
        userId: null,
        channel: d.channel,
        plugin: d.plugin,
        providerMessageId: null,
        reason: 'canceled',
        errorCode: null,
        errorMessage: null,
      })),
    );
    // Tidiness, not safety (the mark stops every job): after the answer, so canceling a campaign of a
    // million deliveries does not keep its caller waiting for a million removals.
    void this.removeJobs(id, canceled).catch((error: unknown) =>
      this.log.warn(`notification ${id}: removing its jobs failed: ${(error as Error).message}`),
    );
    return { id, status: 'canceled', canceled: canceled.length, inFlight: inFlight.size, steps };
  }

  /** Best effort (the cancel mark already stops them): removes delayed and waiting jobs, never active ones. */
  private async removeJobs(
    notificationId: string,
    deliveries: { id: string; plugin: string | null }[],
  ): Promise<void> {
    const removals: (() => Promise<unknown>)[] = [() => this.fanouts.remove(notificationId)];
    for (const d of deliveries)
      if (d.plugin) removals.push(() => this.queues.forPlugin(d.plugin!).remove(d.id));
    let failed = 0;
    for (let i = 0; i < removals.length; i += 500) {
      const results = await Promise.allSettled(removals.slice(i, i + 500).map((r) => r()));
      failed += results.filter((r) => r.status === 'rejected').length;
    }
    if (failed > 0)
      this.log.warn(
        `notification ${notificationId}: ${failed} jobs not removed (they will be reported canceled when they run)`,
      );
  }
}
