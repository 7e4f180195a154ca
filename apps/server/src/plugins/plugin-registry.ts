import type { AnyChannelPlugin, Platform } from '@clarion/plugin-sdk';
import type { LoadedPlugin } from './plugin-loader';

/** The loaded plugins, and how a delivery picks one: a device's platform for push, the app's ordered providers otherwise. */
export class PluginRegistry {
  private readonly byName = new Map<string, LoadedPlugin>();

  constructor(readonly loaded: LoadedPlugin[]) {
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

  /** Providers for a channel in the app's order (e.g. sms: twilio, vonage), else in load order. */
  providersFor(channel: string, order: string[] | undefined): AnyChannelPlugin[] {
    const forChannel = this.loaded.map((l) => l.plugin).filter((p) => p.channel === channel);
    if (!order || order.length === 0) return forChannel;
    return order
      .map((n) => forChannel.find((p) => p.name === n))
      .filter((p): p is AnyChannelPlugin => p !== undefined);
  }
}
