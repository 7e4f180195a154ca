import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';
import { PluginRegistry } from '../plugins/plugin-registry';

/**
 * `clarion_plugin_info{plugin,package,channel,version,sdk_range} 1` per loaded plugin (the
 * Prometheus "info" idiom): which plugin versions each process runs, to join with other series or
 * to alert on two versions of one plugin during a rollout.
 */
@Injectable()
export class PluginInfoMetric {
  constructor(@Inject(METRICS_REGISTRY) registry: Registry, plugins: PluginRegistry) {
    const info =
      (registry.getSingleMetric('clarion_plugin_info') as Gauge | undefined) ??
      new Gauge({
        name: 'clarion_plugin_info',
        help: 'A loaded plugin and its package version (value 1)',
        labelNames: ['plugin', 'package', 'channel', 'version', 'sdk_range'],
        registers: [registry],
      });
    for (const l of plugins.loaded)
      info.set(
        {
          plugin: l.plugin.name,
          package: l.packageName,
          channel: l.plugin.channel,
          version: l.version,
          sdk_range: l.plugin.sdkVersion,
        },
        1,
      );
  }
}
