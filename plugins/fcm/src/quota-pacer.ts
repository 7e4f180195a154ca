/**
 * Paces sends to one Firebase project under its quota (messages a minute, counted by FCM over
 * windows that are not clock-aligned). A token bucket holding at most one second of quota: a
 * campaign starts at full speed, then settles at the quota rate, never near a minute's worth in
 * one burst. Callers reserve their slot at once and wait for it, so waiting sends keep their order.
 */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class QuotaPacer {
  private readonly perMs: number;
  private readonly burst: number;
  private tokens: number;
  private at: number;

  constructor(
    readonly perMinute: number,
    private readonly clock: PacerClock = realClock,
  ) {
    this.perMs = perMinute / 60_000;
    this.burst = Math.max(1, perMinute / 60);
    this.tokens = this.burst;
    this.at = clock.now();
  }

  /** Takes one message's slot; returns how long (ms) the caller must wait before sending it. */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.perMs);
    this.at = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : -this.tokens / this.perMs;
  }

  /** Waits for this message's slot. */
  async acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }
}
