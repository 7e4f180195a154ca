import type { Queryable } from '../../database/prepared';
import { rows } from '../../database/rows';

/**
 * The later steps of escalating notifications (`notification_steps`): written with the
 * notification, then settled once each — `planned` by the relay when due, `skipped` when the user
 * engaged first, `canceled` with the notification. Every settle is guarded by `status = 'waiting'`
 * on a locked row, so a step is settled once however many processes race for it.
 */

/** A later step of one user, as accepted. */
export interface WaitingStep {
  notificationId: string;
  appId: string;
  /** The internal user id (users.id). */
  userId: string;
  step: number;
  channel: string;
  dueAt: string;
  unless: string[];
}

/** A step taken for settling, in the caller's transaction (its row locked). */
export interface ClaimedStep {
  notificationId: string;
  appId: string;
  userId: string;
  /** The app's own id of the user (the recipient loader reads users by it). */
  externalId: string;
  step: number;
  channel: string;
  /** A delivery of the notification to this user has reached a status named in `unless`. */
  engaged: boolean;
  /** The notification was canceled (its waiting steps are normally canceled with it). */
  canceled: boolean;
}

export type StepOutcome = 'planned' | 'skipped' | 'canceled';

/**
 * True for a step (alias `s`) when a delivery `d` reached a status in its `unless`; a later
 * funnel status implies the earlier ones (a click is an open, an open a delivery), and a status
 * never moves back down the funnel (transitions.ts), so the current status is enough.
 */
const REACHED = `(d.status = ANY(s.unless)
   OR ('delivered' = ANY(s.unless) AND d.status IN ('opened', 'clicked'))
   OR ('opened' = ANY(s.unless) AND d.status = 'clicked'))`;

/**
 * A claimed step's row. Its engagement is read from the notification's deliveries within the
 * notification's own days (migration 1765200000015): unbounded, each step probed every day
 * partition kept and made ahead, 38 with 30 days of retention (`step-engaged-plan.test.ts`).
 */
const CLAIMED_COLUMNS = `s.notification_id AS "notificationId", s.app_id AS "appId", s.user_id AS "userId", s.step, s.channel,
  (SELECT u.external_id FROM users u WHERE u.id = s.user_id) AS "externalId",
  EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = s.notification_id AND d.user_id = s.user_id
            AND d.id >= clarion_notification_delivery_floor(s.notification_id)
            AND d.id < clarion_uuidv7_floor_at(now() + interval '1 hour') AND ${REACHED}) AS engaged,
  EXISTS (SELECT 1 FROM notifications n WHERE n.id = s.notification_id AND n.status = 'canceled') AS canceled`;

/** Stores the later steps (in the notification's own transaction). */
export async function insertWaitingSteps(q: Queryable, steps: WaitingStep[]): Promise<void> {
  if (steps.length === 0) return;
  await q.query(
    `INSERT INTO notification_steps (notification_id, app_id, user_id, step, channel, due_at, unless)
     SELECT n, a, u, s, c, d, string_to_array(x, ',')
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::timestamptz[], $7::text[]) AS t(n, a, u, s, c, d, x)
     ON CONFLICT DO NOTHING`,
    [
      steps.map((s) => s.notificationId),
      steps.map((s) => s.appId),
      steps.map((s) => s.userId),
      steps.map((s) => s.step),
      steps.map((s) => s.channel),
      steps.map((s) => s.dueAt),
      // text[][] cannot be ragged: each list travels as one comma-joined string (engagement names have no comma).
      steps.map((s) => s.unless.join(',')),
    ],
  );
}

/** Up to `limit` waiting steps now due, locked for the caller's transaction (others skip them). */
export const CLAIM_DUE_STEPS_SQL = `SELECT ${CLAIMED_COLUMNS} FROM notification_steps s
      WHERE s.status = 'waiting' AND s.due_at <= now()
      ORDER BY s.due_at LIMIT $1 FOR UPDATE OF s SKIP LOCKED`;

export function claimDueSteps(tx: Queryable, limit: number): Promise<ClaimedStep[]> {
  return rows<ClaimedStep>(tx, CLAIM_DUE_STEPS_SQL, [limit]);
}

/**
 * Waiting steps of these notifications whose user has engaged, locked for the caller's
 * transaction. One the relay holds is skipped here: the relay checks engagement itself.
 */
export function claimEngagedSteps(tx: Queryable, notificationIds: string[]): Promise<ClaimedStep[]> {
  return rows<ClaimedStep>(
    tx,
    `SELECT * FROM (
       SELECT ${CLAIMED_COLUMNS} FROM notification_steps s
        WHERE s.notification_id = ANY($1::uuid[]) AND s.status = 'waiting'
        FOR UPDATE OF s SKIP LOCKED) c
      WHERE c.engaged`,
    [notificationIds],
  );
}

/** Settles claimed steps (still waiting: a step is settled once). */
export async function settleSteps(
  tx: Queryable,
  steps: Pick<ClaimedStep, 'notificationId' | 'userId' | 'step'>[],
  outcome: StepOutcome,
): Promise<number> {
  if (steps.length === 0) return 0;
  const settled = await rows(
    tx,
    `UPDATE notification_steps s SET status = $4, settled_at = now()
       FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS k(n, u, st)
      WHERE s.notification_id = k.n AND s.user_id = k.u AND s.step = k.st AND s.status = 'waiting'
      RETURNING 1`,
    [steps.map((s) => s.notificationId), steps.map((s) => s.userId), steps.map((s) => s.step), outcome],
  );
  return settled.length;
}

/** Cancels a notification's waiting steps (in the cancel's transaction); returns how many. */
export async function cancelWaitingSteps(tx: Queryable, notificationId: string): Promise<number> {
  const canceled = await rows(
    tx,
    `UPDATE notification_steps SET status = 'canceled', settled_at = now()
      WHERE notification_id = $1 AND status = 'waiting' RETURNING 1`,
    [notificationId],
  );
  return canceled.length;
}

/** Which of these notifications have a step still waiting (a read). */
export async function notificationsWaiting(q: Queryable, notificationIds: string[]): Promise<string[]> {
  const found = await rows<{ id: string }>(
    q,
    `SELECT DISTINCT notification_id AS id FROM notification_steps
      WHERE notification_id = ANY($1::uuid[]) AND status = 'waiting'`,
    [notificationIds],
  );
  return found.map((r) => r.id);
}

/** How many steps of a notification still wait (a read). */
export async function waitingStepCount(q: Queryable, notificationId: string): Promise<number> {
  const [row] = await rows<{ n: number }>(
    q,
    `SELECT count(*)::int AS n FROM notification_steps WHERE notification_id = $1 AND status = 'waiting'`,
    [notificationId],
  );
  return row?.n ?? 0;
}

/** A later step as `GET /v1/notifications/:id` shows it. */
export interface StepView {
  userId: string;
  step: number;
  channel: string;
  dueAt: Date;
  unless: string[];
  status: string;
  settledAt: Date | null;
}

/** The later steps of a notification, by step then user (a read; at most `limit`). */
export function stepsOf(q: Queryable, notificationId: string, limit: number): Promise<StepView[]> {
  return rows<StepView>(
    q,
    `SELECT u.external_id AS "userId", s.step, s.channel, s.due_at AS "dueAt", s.unless, s.status, s.settled_at AS "settledAt"
       FROM notification_steps s JOIN users u ON u.id = s.user_id
      WHERE s.notification_id = $1 ORDER BY s.step, u.external_id LIMIT $2`,
    [notificationId, limit],
  );
}
