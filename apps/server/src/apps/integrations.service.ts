import { Inject, Injectable } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '../common/errors/domain-error';
import { assertOutboundUrls } from '../common/outbound-urls';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PluginRegistry } from '../plugins/plugin-registry';
import { IntegrationRepository } from './integration-repository';
import { SecretBox } from './secret-box';

/** Per-app provider settings (credentials, topics), validated by the plugin's `appConfig` schema and stored encrypted. */
@Injectable()
export class IntegrationsService {
  private readonly box: SecretBox;

  constructor(
    private readonly repo: IntegrationRepository,
    private readonly registry: PluginRegistry,
    @Inject(ENV) private readonly env: Env,
  ) {
    this.box = new SecretBox(env.CLARION_ENCRYPTION_KEY);
  }

  async put(appId: string, pluginName: string, config: unknown): Promise<void> {
    const plugin = this.registry.get(pluginName);
    if (!plugin) throw new NotFoundError(`plugin "${pluginName}"`);
    if (!plugin.appConfig) throw new InvalidInputError(`plugin "${pluginName}" has no per-app settings`);
    const parsed = plugin.appConfig.safeParse(config);
    if (!parsed.success) {
      throw new InvalidInputError(
        `invalid ${pluginName} settings`,
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    // A URL the plugin will connect to (the webhook plugin's `url`) is refused here, not only when connecting.
    assertOutboundUrls(this.env, urlFields(parsed.data));
    await this.repo.upsert(appId, pluginName, this.box.seal(JSON.stringify(parsed.data)));
  }

  async delete(appId: string, pluginName: string): Promise<boolean> {
    return this.repo.delete(appId, pluginName);
  }

  /** The decrypted settings, for the plugin runtime (which caches and validates them). */
  resolve = async (appId: string, pluginName: string): Promise<unknown> => {
    const sealed = await this.repo.sealedConfig(appId, pluginName);
    return sealed === null ? undefined : JSON.parse(this.box.open(sealed));
  };
}

/** Top-level string settings named `url` or `…Url`: destinations a plugin connects to. */
function urlFields(config: unknown): { path: string; url: string }[] {
  if (typeof config !== 'object' || config === null) return [];
  return Object.entries(config).flatMap(([key, value]) =>
    typeof value === 'string' && /^url$|Url$/.test(key) ? [{ path: `body.config.${key}`, url: value }] : [],
  );
}
