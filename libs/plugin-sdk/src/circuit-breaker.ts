/**
 * A circuit breaker for one provider, per worker process. Closed: sends go through and
 * provider-side failures are counted in a sliding window; `failureThreshold` of them within
 * `windowMs` open it. Open: nothing is sent for `cooldownMs`. Then half-open: one probe send is
 * let through at a time; success closes the circuit, failure opens it for another cooldown.
 * State is per process (each worker learns on its own); that costs at most `failureThreshold`
 * failed attempts per process, and needs no shared state on the hot path.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitSettings {
  /** Provider-side failures within the window that open the circuit. */
  failureThreshold: number;
  windowMs: number;
  /** How long the circuit stays open before a probe is allowed. */
  cooldownMs: number;
}

export const DEFAULT_CIRCUIT: CircuitSettings = { failureThreshold: 5, windowMs: 30_000, cooldownMs: 30_000 };

/** What the breaker says about a send about to happen. */
export type CircuitDecision = { allow: true; probe: boolean } | { allow: false; retryInMs: number };

/** Numeric value of each state for the `clarion_plugin_circuit_state` gauge. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

export class CircuitBreaker {
  private failures: number[] = [];
  private openedAt = 0;
  private state: CircuitState = 'closed';
  private probing = false;
  private probeStartedAt = 0;

  constructor(
    private readonly settings: CircuitSettings = DEFAULT_CIRCUIT,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  current(): CircuitState {
    this.advance();
    return this.state;
  }

  /** Called before a send. A probe must be followed by `success()` or `failure()`. */
  decide(): CircuitDecision {
    this.advance();
    if (this.state === 'closed') return { allow: true, probe: false };
    // A probe that never reported back (its worker died) does not block the circuit forever.
    if (
      this.state === 'half_open' &&
      (!this.probing || this.now() > this.probeStartedAt + this.settings.cooldownMs)
    ) {
      this.probing = true;
      this.probeStartedAt = this.now();
      return { allow: true, probe: true };
    }
    // Open, or half-open with the probe still out: wait for the cooldown (or the probe) to end.
    const left =
      this.state === 'open'
        ? this.openedAt + this.settings.cooldownMs - this.now()
        : this.settings.cooldownMs;
    return { allow: false, retryInMs: Math.max(100, left) };
  }

  success(): void {
    this.probing = false;
    if (this.state !== 'closed') {
      this.failures = [];
      this.set('closed');
    }
  }

  /** A provider-side failure (outage, 5xx, timeout, our credentials refused). */
  failure(): void {
    const now = this.now();
    if (this.state === 'half_open') {
      this.probing = false;
      this.open(now);
      return;
    }
    if (this.state === 'open') return;
    this.failures = this.failures.filter((t) => t > now - this.settings.windowMs);
    this.failures.push(now);
    if (this.failures.length >= this.settings.failureThreshold) this.open(now);
  }

  /** A send that ended without telling us anything about the provider's health (a bad address). */
  neutral(): void {
    if (this.probing) {
      // The provider answered: it is up.
      this.success();
    }
  }

  private open(now: number): void {
    this.openedAt = now;
    this.failures = [];
    this.set('open');
  }

  private advance(): void {
    if (this.state === 'open' && this.now() >= this.openedAt + this.settings.cooldownMs)
      this.set('half_open');
  }

  private set(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }
}
