import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { badRequest, notFound } from '../common/api-error';
import { assertOutboundUrls } from '../common/outbound-urls';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { rows } from '../database/rows';
import { PluginRegistry } from '../plugins/plugin-registry';
import { SecretBox } from './secret-box';

/** Per-app provider settings (credentials, topics), validated by the plugin's `appConfig` schema and stored encrypted. */
@Injectable()
export class IntegrationsService {
  private readonly box: SecretBox;

  constructor(
    private readonly db: DataSource,
    private readonly registry: PluginRegistry,
    @Inject(ENV) private readonly env: Env,
  ) {
    this.box = new SecretBox(env.CLARION_ENCRYPTION_KEY);
  }

  async put(appId: string, pluginName: string, config: unknown): Promise<void> {
    const plugin = this.registry.get(pluginName);
    if (!plugin) throw notFound(`plugin "${pluginName}"`);
    if (!plugin.appConfig) throw badRequest(`plugin "${pluginName}" has no per-app settings`);
    const parsed = plugin.appConfig.safeParse(config);
    if (!parsed.success) {
      throw badRequest(
        `invalid ${pluginName} settings`,
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    // A URL the plugin will connect to (the webhook plugin's `url`) is refused here, not only when connecting.
    assertOutboundUrls(this.env, urlFields(parsed.data));
    await this.db.query(
      `INSERT INTO integrations (app_id, plugin, config_encrypted) VALUES ($1, $2, $3)
       ON CONFLICT (app_id, plugin) DO UPDATE SET config_encrypted = EXCLUDED.config_encrypted, updated_at = now()`,
      [appId, pluginName, this.box.seal(JSON.stringify(parsed.data))],
    );
  }

  async delete(appId: string, pluginName: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      'DELETE FROM integrations WHERE app_id = $1 AND plugin = $2 RETURNING plugin',
      [appId, pluginName],
    );
    return deleted.length > 0;
  }

  /** The decrypted settings, for the plugin runtime (which caches and validates them). */
  resolve = async (appId: string, pluginName: string): Promise<unknown> => {
    const rows: { config_encrypted: string }[] = await this.db.query(
      'SELECT config_encrypted FROM integrations WHERE app_id = $1 AND plugin = $2',
      [appId, pluginName],
    );
    return rows[0] ? JSON.parse(this.box.open(rows[0].config_encrypted)) : undefined;
  };
}

/** Top-level string settings named `url` or `…Url`: destinations a plugin connects to. */
function urlFields(config: unknown): { path: string; url: string }[] {
  if (typeof config !== 'object' || config === null) return [];
  return Object.entries(config).flatMap(([key, value]) =>
    typeof value === 'string' && /^url$|Url$/.test(key) ? [{ path: `body.config.${key}`, url: value }] : [],
  );
}
