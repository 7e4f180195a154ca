import type { PluginHealth } from '@clarion/plugin-sdk';
import { Logger } from '@nestjs/common';
import type { PluginRegistry } from './plugin-registry';

export interface PluginListing {
  name: string;
  package: string;
  channel: string;
  /** The installed package's version. */
  version: string;
  /** The SDK versions the plugin declares it works with. */
  sdkRange: string;
  /** Whether this process sends with it: `unknown` where it is loaded for its metadata only (the API role). */
  health: 'healthy' | 'unhealthy' | 'unknown';
  /** Why it is unhealthy (the provider's last configuration error). */
  reason?: string;
  warnings: string[];
}

/** Every loaded plugin, with the health this process knows (`health` holds the plugins it runs). */
export function listPlugins(registry: PluginRegistry, health: Record<string, PluginHealth>): PluginListing[] {
  return registry.loaded.map((l) => {
    const h = health[l.plugin.name];
    return {
      name: l.plugin.name,
      package: l.packageName,
      channel: l.plugin.channel,
      version: l.version,
      sdkRange: l.plugin.sdkVersion,
      health: h === undefined ? 'unknown' : h.healthy ? 'healthy' : 'unhealthy',
      ...(h?.reason ? { reason: h.reason } : {}),
      warnings: l.warnings,
    };
  });
}

/** One line naming each loaded plugin with its version, then each warning on its own line. */
export function logLoadedPlugins(registry: PluginRegistry): void {
  const log = new Logger('plugins');
  const names = registry.loaded.map(
    (l) => `${l.plugin.name} ${l.version} (${l.packageName}, ${l.plugin.channel})`,
  );
  log.log(`loaded plugins: ${names.join(', ') || '(none)'}`);
  for (const l of registry.loaded) for (const warning of l.warnings) log.warn(warning);
  for (const warning of registry.unknownDefaults()) log.warn(warning);
}
