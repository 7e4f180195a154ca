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
import { callbackSettingKeys, callbackSettingsFromEnv } from './callback-settings';
import { resolvePluginPeersFromServer } from './peer-resolution';
import { packageDirOf, packageVersion, sdkCopyWarning } from './plugin-package';

/** The channels whose addresses are registered devices. */
const DEVICE_CHANNELS: readonly string[] = ['push', 'web'];

export interface LoadedPlugin {
  packageName: string;
  plugin: AnyChannelPlugin;
  /** Validated when this process sends with the plugin; otherwise whatever parsed (undefined if nothing did). */
  config: unknown;
  /** The package's own version (its package.json), else the plugin's declared one. */
  version: string;
  /** What the operator should know but that does not stop the start (another copy of the SDK). */
  warnings: string[];
  /** Settings of the plugin's callbacks (`callbacks.settings`), read in every process: `{}` without any. */
  callbackSettings?: Record<string, unknown>;
}

export interface LoadPluginsOptions {
  /** Packages named in CLARION_PLUGINS; empty means "the built-ins that are configured". */
  requested: string[];
  /** Extra folder to resolve custom plugin packages from (a derived image's node_modules). */
  pluginPath: string;
  env: NodeJS.ProcessEnv;
  /** Sandbox mode: config per plugin name pointing at the local fakes. */
  sandboxConfigs?: Record<string, Record<string, unknown>>;
  /**
   * Plugins this process sends with (a worker pool's CLARION_WORKER_PLUGINS; 'all' for a worker
   * running every plugin): their settings must be complete and valid, or the start stops. The
   * others are loaded for their metadata only (the API plans deliveries for every channel but
   * holds no provider credentials). Default 'all'.
   */
  runs?: 'all' | readonly string[];
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

interface RequiredPlugin {
  plugin: AnyChannelPlugin;
  /** The installed package's folder (undefined if it cannot be found from its entry point). */
  dir: string | undefined;
}

function requirePlugin(packageName: string, pluginPath: string): RequiredPlugin {
  let mod: { default?: unknown };
  let file: string;
  try {
    mod = require(packageName);
    file = require.resolve(packageName);
  } catch (first) {
    // Installed with the server but broken: that error, not a second lookup's "not found".
    if (!isNotInstalled(first, packageName)) {
      throw new PluginLoadError(`cannot load plugin package "${packageName}": ${firstLine(first)}`);
    }
    try {
      resolvePluginPeersFromServer();
      const fromPluginPath = createRequire(join(pluginPath, 'noop.js'));
      mod = fromPluginPath(packageName);
      file = fromPluginPath.resolve(packageName);
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
  if (plugin.addressKind === 'device' && !DEVICE_CHANNELS.includes(plugin.channel ?? '')) {
    // Devices are registered only for push and web; a device channel of its own could never be sent to.
    throw new PluginLoadError(
      `plugin "${plugin.name}" (${packageName}) declares addressKind 'device' on its own channel "${plugin.channel}": devices belong to the push and web channels; give "${plugin.channel}" an address kind users can store (url, email or phone), or serve push or web`,
    );
  }
  return { plugin: plugin as AnyChannelPlugin, dir: packageDirOf(file, packageName) };
}

/** The loaded form of a plugin: its package's version and what to warn about. */
function described(packageName: string, required: RequiredPlugin, config: unknown): LoadedPlugin {
  const { plugin, dir } = required;
  const warning = sdkCopyWarning(plugin.name, dir);
  return {
    packageName,
    plugin,
    config,
    version: packageVersion(dir) ?? plugin.version,
    warnings: warning ? [warning] : [],
  };
}

/** Has the operator set any CLARION_<PLUGIN>_* variable for this plugin? */
function configured(plugin: AnyChannelPlugin, env: NodeJS.ProcessEnv): boolean {
  const prefix = pluginEnvName(plugin.name, 'x').slice(0, -1);
  return Object.keys(env).some((k) => k.startsWith(prefix) && env[k] !== '');
}

/** CLARION_<PLUGIN>_* variables (or their _FILE forms) that name no setting of the plugin: a typo would otherwise pass silently. */
function unknownSettings(plugin: AnyChannelPlugin, env: NodeJS.ProcessEnv): string[] {
  const prefix = pluginEnvName(plugin.name, 'x').slice(0, -1);
  const keys = [
    ...(plugin.config instanceof z.ZodObject ? Object.keys(plugin.config.shape) : []),
    ...callbackSettingKeys(plugin),
  ];
  const known = new Set(keys.map((k) => pluginEnvName(plugin.name, k)));
  const unknown = Object.keys(env).filter(
    (k) => k.startsWith(prefix) && env[k] !== '' && !known.has(k) && !known.has(k.replace(/_FILE$/, '')),
  );
  if (unknown.length === 0) return [];
  const settings = [...known].join(', ');
  return unknown.map((k) => `${k}: not a setting of plugin "${plugin.name}" (its settings: ${settings})`);
}

/** The config of a plugin this process does not send with: used if valid (metadata, callback secrets), never an error. */
function bestEffortConfig(
  plugin: AnyChannelPlugin,
  env: NodeJS.ProcessEnv,
  sandbox: Record<string, unknown>,
) {
  try {
    return pluginConfigFromEnv(plugin, env, sandbox);
  } catch {
    return undefined;
  }
}

/**
 * Loads plugins, validates the config of each one this process sends with (a wrong or missing
 * value stops the start, naming the variable), refuses two plugins of one name. Without
 * CLARION_PLUGINS the built-ins are loaded that have a setting of their own (CLARION_<PLUGIN>_*)
 * or that this process runs, so an operator configures only the providers they use.
 */
export function loadPlugins(options: LoadPluginsOptions): LoadedPlugin[] {
  const runs = options.runs ?? 'all';
  const sends = (name: string) => runs === 'all' || runs.includes(name);
  const explicit = options.requested.length > 0;
  const packages = explicit ? options.requested : [...BUILTIN_PLUGIN_PACKAGES];
  const loaded: LoadedPlugin[] = [];
  const problems: string[] = [];
  for (const packageName of packages) {
    let required: RequiredPlugin;
    try {
      required = requirePlugin(packageName, options.pluginPath);
    } catch (error) {
      // A built-in that is absent from this image is skipped when nobody asked for it; a broken one never is.
      if (explicit || !(error instanceof PluginLoadError && error.notInstalled))
        problems.push((error as Error).message);
      continue;
    }
    const { plugin } = required;
    const sandbox = options.sandboxConfigs?.[plugin.name];
    const named = runs !== 'all' && runs.includes(plugin.name);
    if (!explicit && !sandbox && !named && !configured(plugin, options.env)) continue;
    const duplicate = loaded.find((l) => l.plugin.name === plugin.name);
    if (duplicate) {
      problems.push(`two plugins are named "${plugin.name}": ${duplicate.packageName} and ${packageName}`);
      continue;
    }
    // Read in every process: the API receives callbacks without holding the send credentials.
    let callbackSettings: Record<string, unknown>;
    try {
      callbackSettings = callbackSettingsFromEnv(plugin, options.env, sandbox ?? {});
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    if (!sends(plugin.name)) {
      loaded.push({
        ...described(packageName, required, bestEffortConfig(plugin, options.env, sandbox ?? {})),
        callbackSettings,
      });
      continue;
    }
    try {
      problems.push(...unknownSettings(plugin, options.env));
      loaded.push({
        ...described(packageName, required, pluginConfigFromEnv(plugin, options.env, sandbox ?? {})),
        callbackSettings,
      });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (runs !== 'all') {
    const missing = runs.filter((name) => !loaded.some((l) => l.plugin.name === name));
    if (missing.length > 0)
      problems.push(
        `CLARION_WORKER_PLUGINS names plugins that are not loaded: ${missing.join(', ')} (loaded: ${loaded.map((l) => l.plugin.name).join(', ') || 'none'}; add their packages to CLARION_PLUGINS)`,
      );
  }
  if (problems.length > 0) throw new PluginLoadError(problems.join('\n'));
  return loaded;
}
