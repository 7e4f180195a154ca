import { setTimeout as sleep } from 'node:timers/promises';

export interface ClientOptions {
  apiUrl: string;
  auth: string;
  /** Unique notifications to send, each with its own eventId. */
  total: number;
  concurrency: number;
  /** Requests per second at most (0: as fast as answered). */
  rate: number;
  /** Users the notifications go to (`user-1` … `user-<users>`). */
  users: number;
}

/** What the client saw: the notifications it got a 202 (or a repeat's 200) for, and every non-2xx answer. */
export interface ClientResult {
  /** Notification ids the API acknowledged, one per eventId. */
  accepted: Set<string>;
  /** Client-visible errors by HTTP status, or `network` (refused, reset, timed out). */
  errors: Record<string, number>;
  /** eventIds given up on (attempts exhausted). */
  abandoned: number;
}

/** How long one eventId is retried before the client gives up on it. */
const GIVE_UP_MS = 120_000;

/**
 * A careful API client: N unique notifications, each with an eventId, and every 5xx, 429 or network
 * error retried with the same eventId (so a request the server stored before it failed is not
 * stored twice), waiting Retry-After (capped) or a short backoff.
 */
export class DrillClient {
  readonly result: ClientResult = { accepted: new Set(), errors: {}, abandoned: 0 };

  constructor(private readonly options: ClientOptions) {}

  /** Requests answered with an id so far. */
  get acceptedCount(): number {
    return this.result.accepted.size;
  }

  async run(): Promise<ClientResult> {
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= this.options.total) return;
        if (this.options.rate > 0) {
          const due = started + (i * 1000) / this.options.rate;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        await this.send(i);
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
    return this.result;
  }

  private async send(i: number): Promise<void> {
    const body = JSON.stringify({
      to: { userId: `user-${(i % this.options.users) + 1}` },
      eventId: `drill-${i}`,
      content: { webhook: { json: { i } } },
    });
    const deadline = Date.now() + GIVE_UP_MS;
    for (let attempt = 0; ; attempt++) {
      let wait = Math.min(2000, 100 * 2 ** attempt);
      try {
        const res = await fetch(`${this.options.apiUrl}/v1/notifications`, {
          method: 'POST',
          headers: { authorization: this.options.auth, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.status === 202 || res.status === 200) {
          this.result.accepted.add((JSON.parse(text) as { id: string }).id);
          return;
        }
        this.count(String(res.status));
        if (res.status < 500 && res.status !== 429) return; // the request itself is wrong: no retry helps
        const retryAfter = Number(res.headers.get('retry-after'));
        if (retryAfter > 0) wait = Math.min(2000, retryAfter * 1000);
      } catch (error) {
        // An answer the OpenAPI document does not declare (tests check every answer) is a bug, not a fault to ride out.
        if ((error as Error).name === 'ContractViolation') throw error;
        this.count('network');
      }
      if (Date.now() + wait > deadline) {
        this.result.abandoned++;
        return;
      }
      await sleep(wait);
    }
  }

  private count(key: string): void {
    this.result.errors[key] = (this.result.errors[key] ?? 0) + 1;
  }
}
