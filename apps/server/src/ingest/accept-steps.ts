import { delayUntil } from '../common/delay-until';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import type { AcceptMetrics, JobToQueue } from './accept-ports';
import type { PlanContext } from './planner';

/**
 * The steps every accepted notification goes through, whether its users are named in the request
 * or expanded later by fan-out: plan each recipient, count what was suppressed or held, and turn
 * the plans that were stored into queue jobs.
 */

export type PlanFn = (ctx: PlanContext, recipient: Recipient) => DeliveryPlan[];

/** Plans of the users named by id, each once; ids with no user are only counted (no row to point at). */
export function planNamedUsers(
  ctx: PlanContext,
  userIds: readonly string[],
  found: Map<string, Recipient>,
  plan: PlanFn,
): { plans: DeliveryPlan[]; unknown: number } {
  const plans: DeliveryPlan[] = [];
  let unknown = 0;
  for (const uid of new Set(userIds)) {
    const recipient = found.get(uid);
    if (recipient) plans.push(...plan(ctx, recipient));
    else unknown++;
  }
  return { plans, unknown };
}

/**
 * Counts the suppressed and held deliveries among `plans` (the `deliveries` counter's accepted
 * side; the rest is counted as statuses change). `stored`: only those rows were written (a chunk
 * read again writes nothing twice, so it counts nothing twice).
 */
export function countPlans(metrics: AcceptMetrics, plans: DeliveryPlan[], stored?: Set<string>): void {
  for (const p of plans) {
    if (stored && !stored.has(p.id)) continue;
    if (p.status === 'suppressed') metrics.delivery(p.channel, p.plugin, 'suppressed', p.reason);
    if (p.hold) metrics.delivery(p.channel, p.plugin, 'held', p.hold.reason);
  }
}

/**
 * Queue jobs of the stored plans that have one, due at the later of `delayMs` and their own hold.
 * `written`: how the rows were stored. `'queued'`: all of them, `queued` (the request path: a plan
 * with a job is `pending` and stored as `queued`); `'pending'`: all of them, `pending` (escalation
 * steps); a set: only those ids, `queued` (a fan-out chunk read again inserts nothing twice).
 */
export function jobsOf(
  plans: DeliveryPlan[],
  delayMs: number,
  written: 'queued' | 'pending' | Set<string>,
): JobToQueue[] {
  const items: JobToQueue[] = [];
  const writtenQueued = written !== 'pending';
  for (const p of plans)
    if (p.job && (typeof written === 'string' || written.has(p.id)))
      items.push({ job: p.job, delayMs: Math.max(delayMs, delayUntil(p.hold?.until)), writtenQueued });
  return items;
}

/** Canonical JSON (sorted keys) so the same body in another key order is still "the same". */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
