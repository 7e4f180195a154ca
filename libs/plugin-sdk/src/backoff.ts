/** Exponential backoff with full jitter (AWS architecture blog): random in [base*2^(n-1)/2, base*2^(n-1)], capped. */
export function backoffDelay(
  attemptsMade: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A provider's Retry-After wins, plus a little jitter so a crowd of retries does not arrive at once. */
export function retryAfterDelay(retryAfterMs: number, random = Math.random): number {
  return Math.round(retryAfterMs + random() * Math.min(1000, retryAfterMs * 0.1 + 50));
}
