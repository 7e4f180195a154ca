import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppsService } from '../apps/apps.service';
import { DomainError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { RecipientLoader } from '../contacts/recipient-loader';
import type { Queryable } from '../database/prepared';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import {
  type ClaimedStep,
  claimDueSteps,
  claimEngagedSteps,
  type DeliveryRow,
  insertDeliveries,
  notificationsWaiting,
  settleSteps,
} from '../deliveries/delivery-store';
import { Enqueuer } from '../delivery/enqueuer';
import type { JobToQueue, Undo } from '../ingest/accept-ports';
import { countPlans, jobsOf } from '../ingest/accept-steps';
import { PlanContextService } from '../ingest/plan-context.service';
import { planOrSuppress } from '../ingest/plan-or-suppress';
import type { PlanContext } from '../ingest/planner';
import { UserCaps } from '../ingest/user-caps';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { type StepNotification, stepNotifications } from './step-queries';

/** Steps settled per transaction: their rows stay locked while their deliveries are planned. */
const BATCH = 100;

/** What settling a batch wrote: how many steps, and the jobs to queue once committed. */
interface Settled {
  count: number;
  jobs: JobToQueue[];
}

/** The delivery a step leaves behind when it does not go out (engaged, or a notification it can no longer render). */
function suppressedPlan(step: ClaimedStep, reason: string): DeliveryPlan {
  return {
    id: newId(),
    userId: step.userId,
    contactId: null,
    channel: step.channel,
    plugin: null,
    status: 'suppressed',
    reason,
    job: null,
  };
}

/**
 * Settles the later steps of escalating notifications, each once: in one transaction the step
 * rows are locked (SKIP LOCKED: another process takes other rows), their deliveries written and
 * the steps marked; the jobs are queued after the commit (if that enqueue is lost, the deliveries
 * stay `pending` and the relay's pending sweep queues them). A step whose user engaged becomes a
 * suppressed delivery with reason `engaged`; any other is planned like a notification accepted
 * now — preferences, quiet hours and caps as they are at this moment, for its channel only.
 */
@Injectable()
export class StepSettler {
  private readonly log = new Logger('escalation');

  constructor(
    private readonly db: DataSource,
    private readonly apps: AppsService,
    private readonly recipients: RecipientLoader,
    private readonly contexts: PlanContextService,
    private readonly caps: UserCaps,
    private readonly enqueuer: Enqueuer,
    private readonly metrics: DeliveryMetrics,
  ) {}

  /** Every waiting step now due, batch by batch; returns how many were settled. */
  async settleDue(): Promise<number> {
    let total = 0;
    for (;;) {
      let claimed = 0;
      total += await this.inTransaction(async (tx, undo) => {
        const steps = await claimDueSteps(tx, BATCH);
        claimed = steps.length;
        return this.settle(tx, steps, undo);
      });
      if (claimed < BATCH) return total;
    }
  }

  /** The waiting steps of these notifications whose user has engaged: skipped now, not at their due time. */
  async settleEngaged(notificationIds: string[]): Promise<number> {
    // Most engaged notifications have no steps: a plain read spares them a transaction.
    const waiting = await notificationsWaiting(this.db, notificationIds);
    if (waiting.length === 0) return 0;
    return this.inTransaction(async (tx, undo) =>
      this.settle(tx, await claimEngagedSteps(tx, waiting), undo),
    );
  }

  /** Runs `work` in a transaction; queues its jobs once committed, gives back its cap slots if it failed. */
  private async inTransaction(work: (tx: Queryable, undo: Undo[]) => Promise<Settled>): Promise<number> {
    const undo: Undo[] = [];
    let settled: Settled;
    try {
      settled = await this.db.transaction((tx) => work(tx, undo));
    } catch (error) {
      await Promise.all(undo.map((u) => u().catch(() => undefined)));
      throw error;
    }
    if (settled.jobs.length > 0) await this.enqueuer.enqueue(settled.jobs);
    return settled.count;
  }

  private async settle(tx: Queryable, steps: ClaimedStep[], undo: Undo[]): Promise<Settled> {
    const out: Settled = { count: 0, jobs: [] };
    if (steps.length === 0) return out;
    // Canceled meanwhile (a cancel normally settles its waiting steps itself): nothing to write.
    const canceled = steps.filter((s) => s.canceled);
    const engaged = steps.filter((s) => !s.canceled && s.engaged);
    const due = steps.filter((s) => !s.canceled && !s.engaged);
    out.count += await settleSteps(tx, canceled, 'canceled');
    await this.write(
      tx,
      engaged.map((s) => ({
        plan: suppressedPlan(s, 'engaged'),
        notificationId: s.notificationId,
        appId: s.appId,
      })),
    );
    out.count += await settleSteps(tx, engaged, 'skipped');

    const notifications = new Map(
      (await stepNotifications(tx, [...new Set(due.map((s) => s.notificationId))])).map((n) => [n.id, n]),
    );
    for (const group of Map.groupBy(due, (s) => `${s.notificationId}/${s.channel}`).values()) {
      const n = notifications.get(group[0]!.notificationId);
      if (!n) continue; // deleted (retention) with its steps: nothing left to settle
      const plans = await this.plan(n, group, undo);
      await this.write(
        tx,
        plans.map((plan) => ({ plan, notificationId: n.id, appId: n.appId })),
      );
      out.count += await settleSteps(tx, group, 'planned');
      out.jobs.push(...jobsOf(plans, 0, 'pending'));
    }
    return out;
  }

  /** The deliveries of one notification's steps on one channel, capped; records the caps' undo. */
  private async plan(n: StepNotification, steps: ClaimedStep[], undo: Undo[]): Promise<DeliveryPlan[]> {
    const app = await this.apps.get(n.appId);
    if (!app) return []; // deleted: its notifications go with it
    const request = { ...n.request, channels: [steps[0]!.channel] };
    let ctx: PlanContext;
    let plans: DeliveryPlan[];
    try {
      ctx = await this.contexts.build(app, n.id, request, n.acceptedAt, n.templateVersion ?? undefined);
      const found = await this.recipients.load(
        n.appId,
        steps.map((s) => s.externalId),
      );
      plans = steps.flatMap((s) => {
        const recipient = found.get(s.externalId);
        return recipient ? planOrSuppress(ctx, recipient) : [];
      });
    } catch (error) {
      // Refused for good (a template gone since accept…): each step says why, rather than the
      // same batch failing on every pass and holding up every step due after it.
      if (!(error instanceof DomainError)) throw error;
      this.log.warn(`notification ${n.id}: step on ${steps[0]!.channel} not planned: ${error.message}`);
      return steps.map((s) => suppressedPlan(s, error.code));
    }
    undo.push(await this.caps.apply(ctx, plans));
    return plans;
  }

  private async write(tx: Queryable, rows: DeliveryRow[]): Promise<void> {
    if (rows.length === 0) return;
    await insertDeliveries(tx, rows);
    countPlans(
      this.metrics,
      rows.map((r) => r.plan),
    );
  }
}
