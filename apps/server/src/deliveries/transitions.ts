import { DELIVERY_STATUSES, type DeliveryStatus } from './delivery-status';

/**
 * Who moves a delivery, each through its own store function (delivery-store.ts):
 * - `enqueue`: its job is on the plugin queue (Enqueuer);
 * - `outcome`: a worker's outcome (StatusWriter): sent, failed, expired, canceled, or a retry,
 *   which keeps it `queued`;
 * - `tracking`: a provider callback, a tracked link or pixel, a client app's report;
 * - `cancel`: the app canceled the notification (NotificationCanceler);
 * - `reroute`: a provider handed it to the next one of its chain (OutcomeRouter): `pending` again;
 * - `redrive`: the app sends a failed or expired delivery again (RedriveService).
 */
export const WRITERS = ['enqueue', 'outcome', 'tracking', 'cancel', 'reroute', 'redrive'] as const;
export type Writer = (typeof WRITERS)[number];

const FUNNEL_ON = ['delivered', 'opened', 'clicked'] as const;
const track = (...to: DeliveryStatus[]) => Object.fromEntries(to.map((s) => [s, ['tracking']]));

/**
 * THE transition table: for each status, the statuses it may move to and which writers may make
 * that move. A pair that is not listed is refused by every writer, in the database (the SQL
 * guards are generated from this table: `allowedSql`). A listed pair from a status to itself is
 * the same step recorded again (a retry of a queued delivery, a repeated failure report): it is
 * applied and logged, but counts nothing in the stats (`metricsFor`).
 *
 * `failed` and `expired` are not final: a provider may report a message it had deferred as
 * delivered after all (SendGrid deferred → delivered), a worker's `sent` after a failure is kept
 * (unless a provider's report, which carries its message id, caused that failure: record-outcomes.ts),
 * and the app may redrive them. `suppressed`, `canceled` and `clicked` are final.
 */
export const TRANSITIONS: {
  readonly [F in DeliveryStatus]: Readonly<Partial<Record<DeliveryStatus, readonly Writer[]>>>;
} = {
  pending: {
    pending: ['reroute'],
    queued: ['enqueue', 'outcome'],
    sent: ['outcome', 'tracking'],
    failed: ['outcome', 'tracking'],
    expired: ['outcome'],
    canceled: ['outcome', 'cancel'],
    ...track(...FUNNEL_ON),
  },
  queued: {
    pending: ['reroute'],
    queued: ['outcome'],
    sent: ['outcome', 'tracking'],
    failed: ['outcome', 'tracking'],
    expired: ['outcome'],
    canceled: ['outcome', 'cancel'],
    ...track(...FUNNEL_ON),
  },
  sent: {
    failed: ['outcome', 'tracking'],
    expired: ['outcome'],
    canceled: ['outcome'],
    ...track(...FUNNEL_ON),
  },
  failed: {
    pending: ['redrive'],
    suppressed: ['redrive'],
    sent: ['outcome', 'tracking'],
    failed: ['outcome'],
    expired: ['outcome'],
    canceled: ['outcome'],
    ...track(...FUNNEL_ON),
  },
  expired: {
    pending: ['redrive'],
    suppressed: ['redrive'],
    sent: ['outcome', 'tracking'],
    failed: ['outcome'],
    expired: ['outcome'],
    canceled: ['outcome'],
    ...track(...FUNNEL_ON),
  },
  delivered: track('opened', 'clicked'),
  opened: track('clicked'),
  clicked: {},
  suppressed: {},
  canceled: {},
};

/**
 * How a delivery is first stored, and by which path (the diagram's `[*] -->` arrows):
 * - `accept` (the request path: single and batch routes, a closing digest): a delivery it enqueues
 *   right after the commit is written `queued` at once, with `queued_at` (insert-deliveries.ts,
 *   `queuedNow`), so no pending → queued UPDATE follows. Should that enqueue fail, or the process
 *   die before it, the queue reconciler re-adds the job once the grace period has passed;
 * - `fan-out` (a topic or large list, chunk by chunk) and `step` (escalation's later steps): written
 *   `pending`, then moved to `queued` by the enqueuer (`enqueue`) once the jobs are on the queue;
 *   one Redis refused stays `pending` for the relay's pending sweep;
 * - every path writes what the planner or a cap dropped as `suppressed`.
 * The store's write (insert-deliveries.ts) follows this; the planner itself only ever decides
 * `pending` or `suppressed` (InitialStatus).
 */
export const ENTRIES: Readonly<Partial<Record<DeliveryStatus, readonly string[]>>> = {
  queued: ['accept'],
  pending: ['fan-out', 'step'],
  suppressed: ['accept', 'fan-out', 'step'],
};

/** May `writer` move a delivery from `from` to `to`? */
export function mayMove(writer: Writer, from: DeliveryStatus, to: DeliveryStatus): boolean {
  return TRANSITIONS[from][to]?.includes(writer) ?? false;
}

/** The statuses `writer` may move a delivery in status `from` to. */
export function targets(writer: Writer, from: DeliveryStatus): DeliveryStatus[] {
  return DELIVERY_STATUSES.filter((to) => mayMove(writer, from, to));
}

/** The statuses from which `writer` moves anything at all. */
export function sources(writer: Writer): DeliveryStatus[] {
  return DELIVERY_STATUSES.filter((from) => targets(writer, from).length > 0);
}

const quoted = (list: readonly string[]) => list.map((s) => `'${s}'`).join(', ');

/**
 * The SQL guard of one writer: true when the row's status `from` may move to `to` (two SQL
 * expressions, e.g. `d.status` and `v.status`). One CASE over the current status: PostgreSQL
 * evaluates it per row at the cost of a string comparison or two, inside the batched statement.
 */
export function allowedSql(writer: Writer, from: string, to: string): string {
  const arms = sources(writer)
    .map((s) => `WHEN '${s}' THEN ${to} IN (${quoted(targets(writer, s))})`)
    .join(' ');
  return `(CASE ${from} ${arms} ELSE false END)`;
}

/**
 * The funnel, in order: a click implies an open, an open implies delivery, delivery implies
 * sending. Counted once per step crossed (`metricsFor`).
 */
export const FUNNEL = ['sent', 'delivered', 'opened', 'clicked'] as const;
export type FunnelStep = (typeof FUNNEL)[number];

/**
 * How far along the funnel a status is: the one rank of the lifecycle (the stats count each step
 * crossed with it). `failed` and `expired` rank BELOW `sent` (2, not 3): a message failed and then
 * reported delivered after all has crossed `sent` too, and counts there
 * (tracking/link-tracking.test.ts: `metricsFor('failed', 'delivered')` is `['sent', 'delivered']`).
 * Which outcome of a batch the worker's writer keeps is not a matter of rank but of the table
 * (status-writer.ts: `replaces`): a failure reported after `sent` in the same batch wins there,
 * although it ranks lower, as it would in two batches. `suppressed` and `canceled` are outside
 * the funnel.
 */
export const RANK: Readonly<Record<Exclude<DeliveryStatus, 'suppressed' | 'canceled'>, number>> = {
  pending: 0,
  queued: 1,
  failed: 2,
  expired: 2,
  sent: 3,
  delivered: 4,
  opened: 5,
  clicked: 6,
};

const rankOf = (s: string): number => (RANK as Record<string, number>)[s] ?? 0;

/** Which stats metrics one status change adds to (each funnel step crossed, or the failure). */
export function metricsFor(from: string, to: string): FunnelStep[] | ['failed'] | ['expired'] | [] {
  if (to === 'failed') return from === 'failed' ? [] : ['failed'];
  if (to === 'expired') return from === 'expired' ? [] : ['expired'];
  const a = rankOf(from);
  const b = rankOf(to);
  return FUNNEL.filter((s) => RANK[s] > a && RANK[s] <= b);
}

/** SQL for a status's rank (RANK); `unknown` for any other status. */
export function rankSql(column: string, unknown: number): string {
  const cases = Object.entries(RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(' ');
  return `(CASE ${column} ${cases} ELSE ${unknown} END)`;
}

/**
 * `metricsFor` in SQL, for statements that count what they changed (a LATERAL subquery giving
 * `metric`, `reason` rows). The test checks both forms give the same for every pair of statuses.
 */
export function metricsForSql(from: string, to: string, reason: string): string {
  return `(
    SELECT ${to} AS metric, ${reason} AS reason WHERE ${to} IN ('failed', 'expired') AND ${from} <> ${to}
    UNION ALL
    SELECT f.step, NULL FROM (VALUES ${FUNNEL.map((step) => `('${step}', ${RANK[step]})`).join(', ')}) AS f(step, rank)
     WHERE ${to} NOT IN ('failed', 'expired')
       AND f.rank > ${rankSql(from, 0)} AND f.rank <= ${rankSql(to, 0)}
  )`;
}
