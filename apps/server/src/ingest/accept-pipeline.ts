import { createHash } from 'node:crypto';
import type { AppRecord } from '../apps/apps.service';
import { badRequest } from '../common/api-error';
import { delayUntil } from '../common/delay-until';
import { ConflictError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { digestOfOne } from '../templates/digest-option';
import type { NotificationRequest } from '../templates/notification-request';
import type {
  AcceptMetrics,
  CapsPort,
  DigestPort,
  EnqueuePort,
  FanoutStarter,
  JobToQueue,
  NotificationWriter,
  PlanContextPort,
  RecipientsPort,
  SmsBudgetPort,
  Undo,
} from './accept-ports';
import { canonical, countPlans, jobsOf, planNamedUsers } from './accept-steps';
import { assignBatches, BatchAllocator } from './delivery-batches';
import { HELD_JOB_BYTES_PER_ITEM, JOB_BYTES_AT_ONCE, jobBytesPerRecipient } from './job-bytes';
import { firstStepRequest, laterSteps } from './later-steps';
import type { StoreResult } from './notification-store';
import { planOrSuppress } from './plan-or-suppress';
import { checkBeforeFanout, type PlanContext, planRecipient } from './planner';
import { assertVerifiedSender } from './verified-sender';

export interface AcceptResult {
  status: 202 | 200;
  body: {
    id: string;
    status: string;
    duplicate?: boolean;
    deliveries?: number;
    suppressed?: number;
    /** A request that joined a digest: which one, and when it closes. */
    digest?: { id: string; closesAt: string };
  };
}

/** What the pipeline reads and writes through; Nest wires the real ones, unit tests in-memory fakes. */
export interface AcceptPorts {
  recipients: RecipientsPort;
  contexts: PlanContextPort;
  caps: CapsPort;
  smsBudget: SmsBudgetPort;
  store: NotificationWriter;
  enqueuer: EnqueuePort;
  fanouts: FanoutStarter;
  metrics: AcceptMetrics;
  /** More users than this in one request (or any topic) are expanded by a fan-out job. */
  fanoutThreshold: number;
  /** Requests naming `digest` go here after their template is checked (absent: refused). */
  digests?: DigestPort;
  /**
   * Whether a plugin's fan-out deliveries may share batch jobs (absent: all may). Not when its
   * queue has a send rate: BullMQ's limiter counts jobs, and would pass a batch's 50 sends as one.
   */
  batchable?: (plugin: string) => boolean;
}

/** A bulk request's batch jobs, filled by its notifications (AcceptPipeline.requestBatches). */
export interface RequestBatches {
  assign(plans: DeliveryPlan[]): void;
  /** Keeps a stored notification's jobs for `enqueue`. */
  hold(items: JobToQueue[]): void;
  /** Adds the jobs held so far (each batch whole); resolves when Redis answered, never rejects. */
  enqueue(): Promise<void>;
}

/** Writes one fan-out chunk's plans; returns the ids of the rows it inserted (none twice), written `queued` where they have a job. */
export type ChunkWriter = (plans: DeliveryPlan[]) => Promise<Set<string>>;

const nothing: Undo = async () => undefined;

/**
 * Accepting a notification, in one place: load recipients → plan → caps → write → count →
 * enqueue. The request path (single and batch route) runs it whole; fan-out runs the same steps
 * from planning on, chunk by chunk, after the 202.
 */
export class AcceptPipeline {
  constructor(private readonly ports: AcceptPorts) {}

  /**
   * Batch jobs shared by the notifications of one bulk request (`POST /v1/notifications/batch`):
   * `accept` with it puts each notification's deliveries due now into the request's batches, and
   * leaves their jobs to `enqueue`, which adds every batch whole once the request's items are
   * stored. Until then (or if the process dies first) they are `queued` rows without a job, which
   * the queue reconciler re-adds one by one after its grace period.
   */
  requestBatches(): RequestBatches {
    const allocator = new BatchAllocator(this.ports.batchable);
    const jobs: JobToQueue[] = [];
    return {
      assign: (plans) => allocator.assign(plans),
      hold: (items) => {
        jobs.push(...items);
      },
      enqueue: async () => {
        if (jobs.length > 0) await this.ports.enqueuer.enqueue(jobs.splice(0));
      },
    };
  }

  /**
   * `clientSent`: sent with a client key (links untracked, SMS budgeted, no other request's id
   * answered). `batches`: the bulk request's batch jobs (requestBatches).
   */
  async accept(
    app: AppRecord,
    request: NotificationRequest,
    clientSent = false,
    batches?: RequestBatches,
  ): Promise<AcceptResult> {
    const { contexts, recipients, caps, store, metrics } = this.ports;
    const id = newId();
    const acceptedAt = new Date();
    // Only a repeated eventId is compared with its first body; without one there is nothing to hash.
    const bodyHash =
      request.eventId === undefined ? '' : createHash('sha256').update(canonical(request)).digest('hex');
    // An escalating notification plans its first step now; the rest wait (later-steps.ts).
    const ctx = await contexts.build(app, id, firstStepRequest(request), acceptedAt, undefined, clientSent);
    assertVerifiedSender(app.settings, [ctx.contents, ...Object.values(ctx.template?.locales ?? {})]);
    if (request.digest !== undefined) return this.joinDigest(app, request, id, bodyHash, ctx, clientSent);
    const scheduled = request.sendAt !== undefined && Date.parse(request.sendAt) > acceptedAt.getTime();
    const userIds = request.to.userId !== undefined ? [request.to.userId] : (request.to.userIds ?? []);
    // A list whose jobs would outweigh what one step may plan at once (a newsletter to a few hundred
    // users) is expanded in the background too, in chunks sized by the content.
    // Sized only where it decides something (a list, a bulk item): a single user's request skips it.
    const itemBytes =
      request.to.userIds !== undefined || batches ? userIds.length * jobBytesPerRecipient(ctx) : 0;
    const listBytes = request.to.userIds === undefined ? 0 : itemBytes;
    const fanout =
      request.to.topic !== undefined ||
      userIds.length > this.ports.fanoutThreshold ||
      (listBytes > JOB_BYTES_AT_ONCE && userIds.length > 1 && !request.steps);
    if (fanout && request.steps)
      throw badRequest(
        `steps need named users, at most ${this.ports.fanoutThreshold} (CLARION_FANOUT_THRESHOLD): larger audiences are expanded in the background, without steps`,
        [{ path: 'body.steps', message: 'not with a topic or a fan-out sized list' }],
      );
    if (request.steps && listBytes > JOB_BYTES_AT_ONCE)
      throw badRequest(
        `steps plan their users in the request, at most ${JOB_BYTES_AT_ONCE / 2 ** 20} MB of jobs: ${userIds.length} users of about ${Math.ceil(listBytes / userIds.length / 1024)} KB each come to ${Math.ceil(listBytes / 2 ** 20)} MB; send fewer users a request`,
        [{ path: 'body.to.userIds', message: 'too many users for content this large, with steps' }],
      );
    if (fanout) checkBeforeFanout(ctx); // users are planned later: refuse what the request itself gets wrong now

    // Unknown users are reported in the response but not stored as deliveries (no user row to point at).
    const found = fanout
      ? new Map<string, Recipient>()
      : await recipients.load(app.id, [...new Set(userIds)]);
    const { plans, unknown } = fanout
      ? { plans: [], unknown: 0 }
      : planNamedUsers(ctx, userIds, found, planRecipient);
    const undoCaps = await caps.apply(ctx, plans);
    // A bulk item with large content sends its own jobs at once instead of holding them (shared).
    const shared = itemBytes <= HELD_JOB_BYTES_PER_ITEM ? batches : undefined;
    if (shared && !scheduled) shared.assign(plans);
    const undoBudget = await this.takeSmsBudget(app, request, plans, clientSent).catch(async (error) => {
      await undoCaps().catch(() => undefined);
      throw error;
    });
    const undo = async () => {
      await undoCaps().catch(() => undefined);
      await undoBudget().catch(() => undefined);
    };

    let result: StoreResult;
    try {
      result = await store.save({
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
        steps: laterSteps(request, id, app.id, found.values(), acceptedAt),
        templateKey: ctx.template?.key ?? null,
        templateVersion: ctx.template?.version ?? null,
      });
    } catch (error) {
      await undo();
      throw error;
    }
    if (result.outcome === 'duplicate') {
      await undo(); // a repeat sends nothing, so it uses no cap
      metrics.deduplicated.inc();
      if (result.bodyHash !== bodyHash) {
        throw new ConflictError(
          'event_id_conflict',
          'this eventId was already used with a different body',
          // A client's eventIds are its user's own, but a client key still learns no notification id.
          clientSent ? undefined : { notificationId: result.notificationId },
        );
      }
      return { status: 200, body: { id: result.notificationId, status: 'duplicate', duplicate: true } };
    }
    metrics.accepted.inc();
    countPlans(metrics, plans);

    const delayMs = scheduled ? delayUntil(request.sendAt) : 0;
    if (fanout) {
      // Stays `fanout` in PostgreSQL if Redis is away; the relay adds the job again.
      await this.ports.fanouts.start(id, app.id, request.priority, delayMs).catch(() => undefined);
    } else {
      // Durable already, written `queued`: answer without waiting for Redis. A job Redis refused
      // (or never got: the process died first) is re-added by the queue reconciler after its grace.
      const jobs = jobsOf(plans, delayMs, 'queued');
      if (shared) shared.hold(jobs);
      else void this.ports.enqueuer.enqueue(jobs);
    }
    const pending = plans.filter((p) => p.status === 'pending').length;
    return {
      status: 202,
      body: {
        id,
        status: scheduled ? 'scheduled' : fanout ? 'fanout' : 'accepted',
        ...(fanout ? {} : { deliveries: pending, suppressed: plans.length - pending + unknown }),
      },
    };
  }

  /**
   * A fan-out chunk's plans: planned (a user whose render fails gets a suppressed row, not a
   * failed campaign), capped, put in batch jobs (delivery-batches.ts). Nothing is written yet, so
   * a fan-out plans its next chunk while PostgreSQL writes the last (fanout.processor.ts).
   */
  async planChunk(ctx: PlanContext, chunk: Recipient[]): Promise<DeliveryPlan[]> {
    const plans = chunk.flatMap((r) => planOrSuppress(ctx, r));
    await this.ports.caps.apply(ctx, plans);
    assignBatches(plans, this.ports.batchable);
    return plans;
  }

  /**
   * A planned chunk's write → count → enqueue. Only rows `write` inserted are counted and queued,
   * so a chunk read again after a crash does neither twice.
   */
  async storeChunk(plans: DeliveryPlan[], write: ChunkWriter): Promise<void> {
    const stored = await write(plans);
    countPlans(this.ports.metrics, plans, stored);
    await this.ports.enqueuer.enqueue(jobsOf(plans, 0, stored));
  }

  /** Planned, capped and sent later, once, as the digest's message (digest/). */
  private joinDigest(
    app: AppRecord,
    request: NotificationRequest,
    notificationId: string,
    bodyHash: string,
    ctx: PlanContext,
    clientSent: boolean,
  ): Promise<AcceptResult> {
    if (!this.ports.digests) throw new Error('digests are not wired in this process');
    // Rendered only at the close, with `data.digest`: what can never render (a template's missing
    // data variable, content too large) is a 422 now, as for a fan-out.
    checkBeforeFanout({
      ...ctx,
      request: { ...request, data: { ...request.data, digest: digestOfOne(request.data) } },
    });
    return this.ports.digests.join({
      app,
      request,
      notificationId,
      bodyHash,
      templateKey: ctx.template?.key ?? null,
      templateVersion: ctx.template?.version ?? null,
      clientSent,
    });
  }

  private async takeSmsBudget(
    app: AppRecord,
    request: NotificationRequest,
    plans: DeliveryPlan[],
    clientSent: boolean,
  ): Promise<Undo> {
    const sms = plans.filter((p) => p.channel === 'sms' && p.status === 'pending').length;
    const userId = request.to.userId;
    if (!clientSent || sms === 0 || userId === undefined) return nothing;
    return this.ports.smsBudget.take(app.id, userId, sms, app.settings.clientSmsPerDay);
  }
}
