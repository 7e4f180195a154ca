/**
 * What every accepted request carries unless it says otherwise: the API schema's defaults
 * (templates/notification-request.ts). Stored without them (about 60 bytes of jsonb per
 * notification, written to the heap and the WAL) and put back by `requestSql`.
 */
const DEFAULTS = { data: {}, priority: 'normal', pushType: 'alert' } as const;

const isEmptyObject = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

/** The request as `notifications.request` stores it: without the values DEFAULTS gives back. */
export function storedRequest(request: unknown): unknown {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  const out: Record<string, unknown> = { ...(request as Record<string, unknown>) };
  if (isEmptyObject(out.data)) delete out.data;
  if (out.priority === DEFAULTS.priority) delete out.priority;
  if (out.pushType === DEFAULTS.pushType) delete out.pushType;
  return out;
}

/**
 * SQL for the whole request of notifications row `n`: the stored one with the defaults under it
 * (a request stored whole, before this, reads the same).
 */
export const requestSql = (n: string): string => `('${JSON.stringify(DEFAULTS)}'::jsonb || ${n}.request)`;
