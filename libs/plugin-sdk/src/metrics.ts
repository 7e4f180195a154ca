import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What a plugin's `metrics` hook gets: metric constructors bound to the host's registry and name prefix. */
export interface PluginMetricsFactory {
  counter<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    buckets?: number[],
  ): Histogram<L>;
}

/** Plugin-specific metric names live under `clarion_<plugin>_`, e.g. `clarion_apns_invalid_tokens_total`. */
export function pluginMetricsFactory(registry: Registry, pluginName: string): PluginMetricsFactory {
  const prefix = `clarion_${pluginName.replace(/-/g, '_')}_`;
  return {
    counter: (name, help, labelNames = []) =>
      getOrCreate(
        registry,
        prefix + name,
        () => new Counter({ name: prefix + name, help, labelNames, registers: [registry] }),
      ),
    gauge: (name, help, labelNames = []) =>
      getOrCreate(
        registry,
        prefix + name,
        () => new Gauge({ name: prefix + name, help, labelNames, registers: [registry] }),
      ),
    histogram: (name, help, labelNames = [], buckets) =>
      getOrCreate(
        registry,
        prefix + name,
        () =>
          new Histogram({
            name: prefix + name,
            help,
            labelNames,
            registers: [registry],
            ...(buckets ? { buckets } : {}),
          }),
      ),
  };
}

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

const SEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const E2E_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The metrics every plugin gets from the runtime, labelled `plugin` and `channel`. */
export interface StandardPluginMetrics {
  attempts: Counter<'plugin' | 'channel' | 'result'>;
  duration: Histogram<'plugin' | 'channel'>;
  endToEnd: Histogram<'plugin' | 'channel'>;
  inFlight: Gauge<'plugin'>;
  healthy: Gauge<'plugin'>;
  circuit: Gauge<'plugin'>;
  reroutes: Counter<'plugin' | 'to' | 'cause'>;
}

export function standardPluginMetrics(registry: Registry): StandardPluginMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    getOrCreate(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
  return {
    attempts: counter(
      'clarion_plugin_send_attempts_total',
      'Provider send attempts by result: sent, retry, throttled, permanent, configuration, invalid_address, expired, canceled',
      ['plugin', 'channel', 'result'],
    ),
    duration: getOrCreate(
      registry,
      'clarion_plugin_send_duration_seconds',
      () =>
        new Histogram({
          name: 'clarion_plugin_send_duration_seconds',
          help: 'Time the provider took to answer one send',
          labelNames: ['plugin', 'channel'],
          buckets: SEND_BUCKETS,
          registers: [registry],
        }),
    ),
    endToEnd: getOrCreate(
      registry,
      'clarion_delivery_latency_seconds',
      () =>
        new Histogram({
          name: 'clarion_delivery_latency_seconds',
          help: 'From the API accepting the notification to the provider accepting the delivery',
          labelNames: ['plugin', 'channel'],
          buckets: E2E_BUCKETS,
          registers: [registry],
        }),
    ),
    inFlight: getOrCreate(
      registry,
      'clarion_plugin_in_flight',
      () =>
        new Gauge({
          name: 'clarion_plugin_in_flight',
          help: 'Sends waiting for a provider answer',
          labelNames: ['plugin'],
          registers: [registry],
        }),
    ),
    healthy: getOrCreate(
      registry,
      'clarion_plugin_healthy',
      () =>
        new Gauge({
          name: 'clarion_plugin_healthy',
          help: '1 while the plugin works; 0 after a configuration error (bad credentials, wrong topic) until a send succeeds',
          labelNames: ['plugin'],
          registers: [registry],
        }),
    ),
    circuit: getOrCreate(
      registry,
      'clarion_plugin_circuit_state',
      () =>
        new Gauge({
          name: 'clarion_plugin_circuit_state',
          help: 'Circuit breaker per plugin in this process: 0 closed (sending), 1 half-open (probing), 2 open (not sending)',
          labelNames: ['plugin'],
          registers: [registry],
        }),
    ),
    reroutes: counter(
      'clarion_plugin_reroutes_total',
      "Deliveries handed to the next provider in the app's fallback order, by cause (provider_failed, circuit_open)",
      ['plugin', 'to', 'cause'],
    ),
  };
}
