import type { AnyChannelPlugin, Platform } from '@clarion/plugin-sdk';
import type { ProviderOrder } from '../config/provider-order';
import type { LoadedPlugin } from './plugin-loader';

/** The loaded plugins, and how a delivery picks one: a device's platform for push, the app's ordered providers otherwise. */
export class PluginRegistry {
  private readonly byName = new Map<string, LoadedPlugin>();

  constructor(
    readonly loaded: LoadedPlugin[],
    /** The server's default order per channel (CLARION_PROVIDERS), for apps that set none. */
    private readonly defaultOrder: ProviderOrder = {},
  ) {
    for (const l of loaded) this.byName.set(l.plugin.name, l);
  }

  get(name: string): AnyChannelPlugin | undefined {
    return this.byName.get(name)?.plugin;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The plugin serving this device platform on this channel (`push` for ios/android, `web` for browsers). */
  forDevice(channel: string, platform: Platform, preferred: string[] = []): AnyChannelPlugin | undefined {
    const candidates = this.loaded
      .map((l) => l.plugin)
      .filter((p) => p.channel === channel && p.platforms?.includes(platform));
    return candidates.find((p) => preferred.includes(p.name)) ?? candidates[0];
  }

  /**
   * Providers for a channel in the app's order (e.g. sms: twilio, vonage), else the server's
   * default order, else the first loaded provider alone: a provider loaded later becomes nobody's
   * fallback unless an order lists it.
   */
  providersFor(channel: string, appOrder: string[] | undefined): AnyChannelPlugin[] {
    const forChannel = this.loaded.map((l) => l.plugin).filter((p) => p.channel === channel);
    const order = appOrder && appOrder.length > 0 ? appOrder : this.defaultOrder[channel];
    if (!order || order.length === 0) return forChannel.slice(0, 1);
    return order
      .map((n) => forChannel.find((p) => p.name === n))
      .filter((p): p is AnyChannelPlugin => p !== undefined);
  }

  /** Names in the server's default order that are no loaded provider of their channel (skipped when planning). */
  unknownDefaults(): string[] {
    return Object.entries(this.defaultOrder).flatMap(([channel, names]) =>
      names
        .filter((n) => this.get(n)?.channel !== channel)
        .map((n) => `CLARION_PROVIDERS: "${n}" is no loaded plugin of channel "${channel}"`),
    );
  }
}
