/** Counts of one bucket (or the whole range) and the rates derived from them. */
export interface StatsCounts {
  requested: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  failed: number;
  expired: number;
  suppressed: number;
  failedByReason: Record<string, number>;
  suppressedByReason: Record<string, number>;
  rates: {
    /** delivered / sent */
    deliveryRate: number | null;
    /** failed / (requested − suppressed): of the deliveries Clarion tried, how many failed */
    failureRate: number | null;
    /** opened / sent */
    openRate: number | null;
    /** clicked / sent */
    clickThroughRate: number | null;
  };
}

export interface RollupRow {
  metric: string;
  reason: string;
  n: number;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);

export function emptyCounts(): StatsCounts {
  return {
    requested: 0,
    sent: 0,
    delivered: 0,
    opened: 0,
    clicked: 0,
    failed: 0,
    expired: 0,
    suppressed: 0,
    failedByReason: {},
    suppressedByReason: {},
    rates: { deliveryRate: null, failureRate: null, openRate: null, clickThroughRate: null },
  };
}

export function addRow(c: StatsCounts, r: RollupRow): void {
  if (!(r.metric in c) || r.metric === 'rates') return;
  const key = r.metric as
    | 'requested'
    | 'sent'
    | 'delivered'
    | 'opened'
    | 'clicked'
    | 'failed'
    | 'expired'
    | 'suppressed';
  c[key] += r.n;
  if (r.metric === 'failed')
    c.failedByReason[r.reason || 'unknown'] = (c.failedByReason[r.reason || 'unknown'] ?? 0) + r.n;
  if (r.metric === 'suppressed')
    c.suppressedByReason[r.reason || 'unknown'] = (c.suppressedByReason[r.reason || 'unknown'] ?? 0) + r.n;
}

export function withRates(c: StatsCounts): StatsCounts {
  c.rates = {
    deliveryRate: ratio(c.delivered, c.sent),
    failureRate: ratio(c.failed, c.requested - c.suppressed),
    openRate: ratio(c.opened, c.sent),
    clickThroughRate: ratio(c.clicked, c.sent),
  };
  return c;
}
