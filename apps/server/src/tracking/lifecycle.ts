/**
 * The delivery lifecycle: pending → queued → sent → delivered → opened → clicked, or failed /
 * suppressed / expired / canceled. A later step never goes back; the same step twice is no change.
 */
export type TrackedStatus = 'sent' | 'delivered' | 'opened' | 'clicked' | 'failed' | 'expired';

/** Funnel position: a click implies an open, an open implies delivery, delivery implies sending. */
export const FUNNEL = ['sent', 'delivered', 'opened', 'clicked'] as const;
export type FunnelStep = (typeof FUNNEL)[number];

/**
 * Rank for the funnel. `failed`/`expired` sit below `sent`: a provider that reports a failed
 * message delivered after all (SendGrid deferred → delivered) moves it on, and an undelivered
 * report after `sent` moves it to `failed`.
 */
export const FUNNEL_RANK: Record<string, number> = {
  pending: 0,
  queued: 1,
  retrying: 1,
  failed: 2,
  expired: 2,
  sent: 3,
  delivered: 4,
  opened: 5,
  clicked: 6,
};

/** Statuses that nothing moves on from. */
export const FINAL = ['suppressed', 'canceled'] as const;

/** Which stats metrics one status change adds to (each funnel step crossed, or the failure). */
export function metricsFor(from: string, to: string): FunnelStep[] | ['failed'] | ['expired'] | [] {
  if (to === 'failed') return from === 'failed' ? [] : ['failed'];
  if (to === 'expired') return from === 'expired' ? [] : ['expired'];
  const a = FUNNEL_RANK[from] ?? 0;
  const b = FUNNEL_RANK[to] ?? 0;
  return FUNNEL.filter((s) => FUNNEL_RANK[s]! > a && FUNNEL_RANK[s]! <= b);
}

/** SQL for a status's funnel rank (FUNNEL_RANK); `unknown` for any other status. */
export function funnelRankSql(column: string, unknown: number): string {
  const cases = Object.entries(FUNNEL_RANK)
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
    SELECT f.step, NULL FROM (VALUES ${FUNNEL.map((step) => `('${step}', ${FUNNEL_RANK[step]})`).join(', ')}) AS f(step, rank)
     WHERE ${to} NOT IN ('failed', 'expired')
       AND f.rank > ${funnelRankSql(from, 0)} AND f.rank <= ${funnelRankSql(to, 0)}
  )`;
}

/** SQL predicate (for `UPDATE deliveries d … FROM … v`): may `d` move to `v.status`? */
export const MAY_MOVE_SQL = `(
  d.status NOT IN ('suppressed', 'canceled')
  AND (
    (v.status = 'failed' AND d.status IN ('pending', 'queued', 'sent'))
    OR (v.status IN ('sent', 'delivered', 'opened', 'clicked') AND ${funnelRankSql('d.status', 9)} < ${funnelRankSql('v.status', 0)})
  )
)`;
