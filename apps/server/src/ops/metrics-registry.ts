import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per process (not prom-client's global), shared by the core and every plugin runtime. */
export function createMetricsRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function httpDurationHistogram(registry: Registry): Histogram<'method' | 'route' | 'status_code'> {
  return new Histogram({
    name: 'clarion_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern (never the raw URL: ids would explode the series)',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
}
