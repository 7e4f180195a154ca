import { Registry } from 'prom-client';
import { type PluginMetricsFactory, pluginMetricsFactory } from '../metrics';

/**
 * A metrics factory for unit tests of a plugin's `createSender`: real prom-client metrics (so
 * `inc`, `set`, `observe` and their labels are checked as in production) in a registry of their
 * own that nothing scrapes, so two tests never collide on a metric name.
 *
 * ```ts
 * const sender = await plugin.createSender({ config, log: silentLogger, metrics: plugin.metrics?.(noopMetricsFactory(plugin.name)) });
 * ```
 */
export function noopMetricsFactory(pluginName = 'test'): PluginMetricsFactory {
  return pluginMetricsFactory(new Registry(), pluginName);
}
