import { loadAdminToken, loadPluginEnv } from '../config/env';
import { listPlugins, type PluginListing } from '../plugins/plugin-listing';
import { loadPlugins } from '../plugins/plugin-loader';
import { PluginRegistry } from '../plugins/plugin-registry';
import { withSettingsDir } from '../plugins/settings-dir';

/** A running server refused or failed the request: its answer, said plainly. */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

/**
 * `clarion plugins`: with a server URL, what that server loaded and how healthy each plugin is
 * (`GET /admin/plugins`, CLARION_ADMIN_TOKEN); without, what this environment would load
 * (CLARION_PLUGINS, CLARION_PLUGIN_PATH), health `unknown`. Loading needs no provider credentials.
 */
export async function listPluginsCommand(
  url: string | undefined,
  source: NodeJS.ProcessEnv = process.env,
): Promise<{ plugins: PluginListing[] }> {
  if (url) {
    const endpoint = `${url.replace(/\/+$/, '')}/admin/plugins`;
    let res: Response;
    try {
      res = await fetch(endpoint, { headers: { authorization: `Bearer ${loadAdminToken(source)}` } });
    } catch (error) {
      throw new RemoteError(
        `cannot reach ${endpoint}: ${(error as Error).cause ?? (error as Error).message}`,
      );
    }
    const body = (await res.json().catch(() => undefined)) as
      | { plugins?: PluginListing[]; error?: { message?: string } }
      | undefined;
    if (!res.ok || !body?.plugins)
      throw new RemoteError(
        `${endpoint} answered ${res.status}: ${body?.error?.message ?? 'no plugin list'}`,
      );
    return { plugins: body.plugins };
  }
  const env = loadPluginEnv(source);
  const loaded = loadPlugins({
    requested: env.CLARION_PLUGINS,
    pluginPath: env.CLARION_PLUGIN_PATH,
    env: withSettingsDir(source, env.CLARION_PLUGIN_SETTINGS_DIR),
    runs: [],
  });
  return { plugins: listPlugins(new PluginRegistry(loaded, env.CLARION_PROVIDERS), {}) };
}
