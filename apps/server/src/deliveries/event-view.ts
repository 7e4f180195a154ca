/** A delivery_events row as stored. */
export interface EventRow {
  status: string;
  at: string | Date;
  attempt: number | null;
  detail: Record<string, unknown> | null;
}

/** One step as the API shows it: when, which attempt, which provider and message id, what went wrong, and whether it was worth retrying. */
export interface EventView {
  status: string;
  at: string;
  attempt: number | null;
  provider: string | null;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  retryable: boolean | null;
  reason: string | null;
  source: string | null;
  detail: Record<string, unknown> | null;
}

const str = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;

export function eventView(e: EventRow): EventView {
  const d = e.detail ?? {};
  const error = (d.error ?? null) as {
    code?: unknown;
    message?: unknown;
    kind?: unknown;
    retryable?: unknown;
  } | null;
  return {
    status: e.status,
    at: new Date(e.at).toISOString(),
    attempt: e.attempt,
    provider: str(d.plugin),
    providerMessageId: str(d.providerMessageId),
    errorCode: str(error?.code),
    errorMessage: str(error?.message),
    retryable: error
      ? typeof error.retryable === 'boolean'
        ? error.retryable
        : error.kind === 'retryable'
      : null,
    reason: str(d.reason),
    source:
      str(d.source) ??
      (e.status === 'pending' || e.status === 'queued' ? 'clarion' : d.plugin ? 'worker' : null),
    detail: e.detail,
  };
}

/**
 * A delivery's history, oldest first, starting with `pending` at its creation (not stored as a
 * row: the delivery's created_at is that step's timestamp, which saves an insert per delivery).
 */
export function historyOf(status: string, createdAt: string | Date, events: EventRow[]): EventView[] {
  const stored = events.map(eventView);
  if (status === 'suppressed' && stored[0]?.status === 'suppressed') return stored;
  return [eventView({ status: 'pending', at: createdAt, attempt: null, detail: null }), ...stored];
}
