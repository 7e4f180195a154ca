import { CircuitBreaker, type CircuitSettings, type CircuitState } from './circuit-breaker';

/** Destinations remembered at most; the least recently used closed ones are forgotten first. */
const MAX_DESTINATIONS = 10_000;

/**
 * The circuit breakers of one plugin in one process: one for the plugin's provider, and, for
 * plugins that key their circuit by destination (circuitKey), one per destination. Each destination
 * opens and closes on its own failures only.
 */
export class CircuitBreakers {
  private readonly plugin: CircuitBreaker;
  private readonly byKey = new Map<string, CircuitBreaker>();

  constructor(
    private readonly settings: CircuitSettings,
    private readonly onChange: (state: CircuitState, key: string | undefined) => void,
    private readonly maxKeys = MAX_DESTINATIONS,
  ) {
    this.plugin = new CircuitBreaker(settings, (state) => onChange(state, undefined));
  }

  /** The breaker for `key` (a destination), or the plugin's own for none. */
  get(key: string | undefined): CircuitBreaker {
    if (key === undefined) return this.plugin;
    let breaker = this.byKey.get(key);
    if (breaker) {
      // Most recently used last: eviction below walks from the front.
      this.byKey.delete(key);
    } else {
      breaker = new CircuitBreaker(this.settings, (state) => this.onChange(state, key));
      this.evict();
    }
    this.byKey.set(key, breaker);
    return breaker;
  }

  /** The plugin-wide state (destination breakers do not change it). */
  current(): CircuitState {
    return this.plugin.current();
  }

  /** Destinations whose circuit is open or half-open now. */
  openDestinations(): string[] {
    return [...this.byKey].filter(([, b]) => b.current() !== 'closed').map(([k]) => k);
  }

  private evict(): void {
    if (this.byKey.size < this.maxKeys) return;
    for (const [key, breaker] of this.byKey) {
      if (this.byKey.size < this.maxKeys) return;
      if (breaker.current() === 'closed') this.byKey.delete(key);
    }
    // All open: forget the oldest anyway; a forgotten destination starts closed again.
    const oldest = this.byKey.keys().next();
    if (!oldest.done && this.byKey.size >= this.maxKeys) this.byKey.delete(oldest.value);
  }
}
