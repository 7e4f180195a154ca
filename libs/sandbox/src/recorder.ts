import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

/** One message a fake provider accepted (or refused), as a test or a person would inspect it. */
export interface SandboxRecord {
  id: string;
  /** Fake that received it: `apns`, `fcm`, `twilio`, `webhook`, … */
  provider: string;
  /** `push`, `web`, `sms`, `email`, `webhook`. */
  channel: string;
  /** Address as the provider saw it: token, phone, e-mail, URL path. */
  to: string;
  receivedAt: string;
  /** What a user would see (title/body, text, subject/html…) plus the raw request body. */
  payload: unknown;
  headers?: Record<string, string>;
  /** The answer the fake gave: `accepted`, or the error it was told to return. */
  outcome: string;
  providerMessageId?: string;
}

/** In-memory log of everything the fakes received; bounded so a long dev session does not grow forever. */
export class Recorder extends EventEmitter {
  private readonly items: SandboxRecord[] = [];

  constructor(private readonly capacity = 200_000) {
    super();
  }

  add(record: Omit<SandboxRecord, 'id' | 'receivedAt'>): SandboxRecord {
    const full: SandboxRecord = { id: randomUUID(), receivedAt: new Date().toISOString(), ...record };
    this.items.push(full);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
    this.emit('record', full);
    return full;
  }

  list(filter: { provider?: string; channel?: string; to?: string; outcome?: string } = {}): SandboxRecord[] {
    return this.items.filter(
      (r) =>
        (filter.provider === undefined || r.provider === filter.provider) &&
        (filter.channel === undefined || r.channel === filter.channel) &&
        (filter.to === undefined || r.to === filter.to) &&
        (filter.outcome === undefined || r.outcome === filter.outcome),
    );
  }

  count(filter: Parameters<Recorder['list']>[0] = {}): number {
    return this.list(filter).length;
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Resolves once `n` records match the filter. */
  async waitFor(
    n: number,
    filter: Parameters<Recorder['list']>[0] = {},
    timeoutMs = 30_000,
  ): Promise<SandboxRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.list(filter);
      if (found.length >= n) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `sandbox: expected ${n} records matching ${JSON.stringify(filter)}, got ${found.length}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
