import { PermanentError } from './errors';
import type { AnyChannelPlugin } from './plugin';

/** Looks up an app's stored integration settings for a plugin (decrypted), or undefined. */
export type AppConfigResolver = (appId: string, plugin: string) => Promise<unknown>;

/** Per-app settings change rarely and are read on every send: cache them briefly, validated. */
export class AppConfigCache {
  private readonly entries = new Map<string, { value: unknown; expires: number }>();

  constructor(
    private readonly plugin: AnyChannelPlugin,
    private readonly resolve: AppConfigResolver | undefined,
    private readonly ttlMs = 30_000,
  ) {}

  async get(appId: string): Promise<unknown> {
    if (!this.resolve || !this.plugin.appConfig) return undefined;
    const hit = this.entries.get(appId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const raw = await this.resolve(appId, this.plugin.name);
    let value: unknown;
    if (raw !== undefined && raw !== null) {
      const parsed = this.plugin.appConfig.safeParse(raw);
      if (!parsed.success) {
        throw new PermanentError(
          `app ${appId} has invalid ${this.plugin.name} settings: ${parsed.error.message}`,
          {
            configuration: true,
            code: 'invalid_app_config',
          },
        );
      }
      value = parsed.data;
    }
    this.entries.set(appId, { value, expires: Date.now() + this.ttlMs });
    return value;
  }
}
