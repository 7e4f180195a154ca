import type { DeliveryJob, Priority } from '@clarion/plugin-sdk';
import type { AppRecord } from '../apps/apps.service';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import type { NotificationRequest } from '../templates/notification-request';
import type { AcceptResult } from './accept-pipeline';
import type { NotificationRecord, StoreResult } from './notification-store';
import type { PlanContext } from './planner';

/** Gives back what a step took (cap slots, SMS budget) when the notification ends up stored nowhere. */
export type Undo = () => Promise<void>;

/** Recipients by the app's user id; unknown ids are absent from the map. */
export interface RecipientsPort {
  load(appId: string, userIds: string[]): Promise<Map<string, Recipient>>;
}

/** What planning needs once per notification (template, links, unsubscribe headers). */
export interface PlanContextPort {
  build(
    app: AppRecord,
    notificationId: string,
    request: NotificationRequest,
    acceptedAt: Date,
    pinnedVersion?: number,
    clientSent?: boolean,
  ): Promise<PlanContext>;
}

/** Per-user caps: marks plans over a cap suppressed or held; the undo returns the slots. */
export interface CapsPort {
  apply(ctx: PlanContext, plans: DeliveryPlan[]): Promise<Undo>;
}

/** A client-sent notification's SMS are taken from its user's daily budget (429 when spent). */
export interface SmsBudgetPort {
  take(appId: string, userId: string, count: number, perDay: number): Promise<Undo>;
}

/** The request path's write step: the notification and its deliveries, eventId claimed with them. */
export interface NotificationWriter {
  save(record: NotificationRecord): Promise<StoreResult>;
}

/** A delivery job and how long it waits before it may run (a send time, a hold). */
export interface JobToQueue {
  job: DeliveryJob;
  delayMs: number;
  /** Its row was written `queued` (the request path): the enqueuer has nothing to mark. */
  writtenQueued?: boolean;
}

/** Puts delivery jobs on their queues; resolves false per job Redis refused, never rejects. */
export interface EnqueuePort {
  enqueue(items: JobToQueue[]): Promise<boolean[]>;
}

/** Adds the fan-out job of a notification stored as `fanout`; rejects when Redis is away. */
export interface FanoutStarter {
  start(notificationId: string, appId: string, priority: Priority, delayMs: number): Promise<void>;
}

/** Counters the pipeline moves (DeliveryMetrics has them). */
export interface AcceptMetrics {
  accepted: { inc(): void };
  deduplicated: { inc(): void };
  delivery(channel: string, plugin: string | null, status: string, reason: string | null): void;
}

/** A request naming `digest` as the digest module hands it over: accepted, not planned. */
export interface DigestJoin {
  app: AppRecord;
  request: NotificationRequest;
  /** The new notification's id (the joining request's own row, status `digested`). */
  notificationId: string;
  bodyHash: string;
  templateKey: string | null;
  templateVersion: number | null;
  clientSent: boolean;
}

/**
 * Joins a notification to its user's open digest (digest/ implements it; ingest does not know
 * how): its eventId claimed with the join, a repeat answered as any repeat is.
 */
export interface DigestPort {
  join(input: DigestJoin): Promise<AcceptResult>;
}
