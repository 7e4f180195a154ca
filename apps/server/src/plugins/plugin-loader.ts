import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type AnyChannelPlugin,
  pluginConfigFromEnv,
  pluginEnvName,
  SDK_VERSION,
  satisfiesSdkRange,
} from '@clarion/plugin-sdk';
import { z } from 'zod';
import { BUILTIN_PLUGIN_PACKAGES } from './builtin-plugins';

export interface LoadedPlugin {
  packageName: string;
  plugin: AnyChannelPlugin;
  config: unknown;
}

export interface LoadPluginsOptions {
  /** Packages named in CLARION_PLUGINS; empty means "the built-ins that are configured". */
  requested: string[];
  /** Extra folder to resolve custom plugin packages from (a derived image's node_modules). */
  pluginPath: string;
  env: NodeJS.ProcessEnv;
  /** Sandbox mode: config per plugin name pointing at the local fakes. */
  sandboxConfigs?: Record<string, Record<string, unknown>>;
}

export class PluginLoadError extends Error {
  override name = 'PluginLoadError';
  constructor(
    message: string,
    /** The package itself is not installed (as opposed to installed but broken). */
    readonly notInstalled = false,
  ) {
    super(message);
  }
}

function isNotInstalled(error: unknown, packageName: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return e?.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${packageName}'`);
}

/** An error's first line: Node's "Require stack" and the like name the server's files, not the operator's problem. */
function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n', 1)[0]!;
}

function requirePlugin(packageName: string, pluginPath: string): AnyChannelPlugin {
  let mod: { default?: unknown };
  try {
    mod = require(packageName);
  } catch (first) {
    // Installed with the server but broken: that error, not a second lookup's "not found".
    if (!isNotInstalled(first, packageName)) {
      throw new PluginLoadError(`cannot load plugin package "${packageName}": ${firstLine(first)}`);
    }
    try {
      mod = createRequire(join(pluginPath, 'noop.js'))(packageName);
    } catch (second) {
      if (isNotInstalled(second, packageName)) {
        throw new PluginLoadError(
          `plugin package "${packageName}" is not installed (looked in the server's own packages and in CLARION_PLUGIN_PATH, ${pluginPath})`,
          true,
        );
      }
      throw new PluginLoadError(`cannot load plugin package "${packageName}": ${firstLine(second)}`);
    }
  }
  const plugin = (mod.default ?? mod) as Partial<AnyChannelPlugin>;
  if (
    typeof plugin?.name !== 'string' ||
    typeof plugin.createSender !== 'function' ||
    !(plugin.config instanceof z.ZodType)
  ) {
    throw new PluginLoadError(
      `package "${packageName}" does not export a channel plugin (defineChannelPlugin) as default`,
    );
  }
  if (!satisfiesSdkRange(plugin.sdkVersion ?? '')) {
    throw new PluginLoadError(
      `plugin "${plugin.name}" (${packageName}) needs @clarion/plugin-sdk ${plugin.sdkVersion}, this server has ${SDK_VERSION}`,
    );
  }
  return plugin as AnyChannelPlugin;
}

/** Has the operator set any CLARION_<PLUGIN>_* variable for this plugin? */
function configured(plugin: AnyChannelPlugin, env: NodeJS.ProcessEnv): boolean {
  const prefix = pluginEnvName(plugin.name, 'x').slice(0, -1);
  return Object.keys(env).some((k) => k.startsWith(prefix) && env[k] !== '');
}

/**
 * Loads plugins, validates each config (a wrong value stops the start, naming the variable),
 * refuses two plugins of one name. Built-ins with no configuration at all are skipped unless
 * named explicitly, so an operator configures only the providers they use.
 */
export function loadPlugins(options: LoadPluginsOptions): LoadedPlugin[] {
  const explicit = options.requested.length > 0;
  const packages = explicit ? options.requested : [...BUILTIN_PLUGIN_PACKAGES];
  const loaded: LoadedPlugin[] = [];
  const problems: string[] = [];
  for (const packageName of packages) {
    let plugin: AnyChannelPlugin;
    try {
      plugin = requirePlugin(packageName, options.pluginPath);
    } catch (error) {
      // A built-in that is absent from this image is skipped when nobody asked for it; a broken one never is.
      if (explicit || !(error instanceof PluginLoadError && error.notInstalled))
        problems.push((error as Error).message);
      continue;
    }
    const sandbox = options.sandboxConfigs?.[plugin.name];
    if (!explicit && !sandbox && !configured(plugin, options.env)) continue;
    const duplicate = loaded.find((l) => l.plugin.name === plugin.name);
    if (duplicate) {
      problems.push(`two plugins are named "${plugin.name}": ${duplicate.packageName} and ${packageName}`);
      continue;
    }
    try {
      loaded.push({ packageName, plugin, config: pluginConfigFromEnv(plugin, options.env, sandbox ?? {}) });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new PluginLoadError(problems.join('\n'));
  return loaded;
}
