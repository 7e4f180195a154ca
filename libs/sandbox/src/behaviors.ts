/**
 * What a fake should do for a given address instead of accepting: answer with one of the
 * provider's real errors, be slow, or drop the connection. Rules are consumed `times` times
 * (default: forever), so "fail twice then succeed" is one rule with times: 2.
 */
export interface BehaviorRule {
  /** Fake name (`apns`, `twilio`, …) the rule applies to. */
  provider: string;
  /** Address the rule matches (token, phone, e-mail, webhook name); `*` matches all. */
  to: string;
  /**
   * Provider-specific error name the fake answers with, e.g. `Unregistered` (APNs),
   * `UNREGISTERED` (FCM), `21211` (Twilio), `410` (Web Push), `rate_limit`, `server_error`.
   */
  fail?: string;
  /** Seconds for a Retry-After header where the provider sends one. */
  retryAfterSeconds?: number;
  /** Delay before answering. */
  delayMs?: number;
  /** Close the connection without answering. */
  drop?: boolean;
  times?: number;
}

/** What a one-time failure may add: a Retry-After, a delay, or a dropped connection. */
export type OnceExtra = Pick<BehaviorRule, 'retryAfterSeconds' | 'delayMs' | 'drop'>;

export class Behaviors {
  private rules: BehaviorRule[] = [];

  add(rule: BehaviorRule): void {
    this.rules.push({ ...rule });
  }

  /** One request to `to` gets `fail` (with a Retry-After, a delay or a dropped connection if asked); the next is accepted. */
  once(provider: string, to: string, fail: string, extra: OnceExtra = {}): void {
    this.add({ provider, to, fail, times: 1, ...extra });
  }

  clear(provider?: string): void {
    this.rules = provider === undefined ? [] : this.rules.filter((r) => r.provider !== provider);
  }

  list(): BehaviorRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The rule to apply to this request, consuming one of its `times`. */
  take(provider: string, to: string): BehaviorRule | undefined {
    const index = this.rules.findIndex((r) => r.provider === provider && (r.to === to || r.to === '*'));
    if (index < 0) return undefined;
    const rule = this.rules[index]!;
    if (rule.times !== undefined) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(index, 1);
    }
    return rule;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
