/** A connection refused by the outbound policy before any byte was sent. */
export class OutboundRefusedError extends Error {
  readonly code = 'ERR_OUTBOUND_REFUSED';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`outbound connection to ${host} refused: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

/** The OutboundRefusedError in `error` or its causes (HTTP clients wrap connect errors). */
export function outboundRefusal(error: unknown): OutboundRefusedError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof OutboundRefusedError) return e;
    if ((e as { code?: unknown }).code === 'ERR_OUTBOUND_REFUSED') return e as OutboundRefusedError;
  }
  return undefined;
}
