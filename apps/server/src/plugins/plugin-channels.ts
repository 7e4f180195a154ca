import type { AddressKind } from '@clarion/plugin-sdk';
import { z } from 'zod';
import { freeJson, JSON_LIMITS } from '../common/free-json';
import { CORE_CHANNELS } from './core-channels';
import type { PluginRegistry } from './plugin-registry';

/** A user's address on a plugin's channel: one of these kinds (devices belong to push and web). */
export type ChannelAddressKind = Exclude<AddressKind, 'device'>;

/** A channel some loaded plugin adds (not one of the core's), as the API sees it. */
export interface PluginChannel {
  channel: string;
  /** The plugins serving it, in load order. */
  plugins: string[];
  addressKind: ChannelAddressKind;
  /** A user's address for it (`addresses.<channel>`). */
  address: z.ZodType<string>;
  /** `content.<channel>` of a notification. */
  content: z.ZodType;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** The address a plugin takes when it declares no schema of its own, by kind. */
const DEFAULT_ADDRESS: Record<ChannelAddressKind, z.ZodType<string>> = {
  email: z.email().max(320),
  phone: z.string().regex(E164, 'E.164, e.g. +14155550100'),
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2000),
};

/** Content of a plugin channel that declares no schema: a text, a JSON value, or both. */
const DEFAULT_CONTENT = z
  .object({
    text: z.string().min(1).max(10_000).optional(),
    json: freeJson(JSON_LIMITS.webhookJson).optional(),
  })
  .strict()
  .refine((c) => c.text !== undefined || c.json !== undefined, 'give text or json');

/** Everything a plugin's content may be, before its own schema looks at it: bounded like any free JSON. */
const BOUNDED = freeJson(JSON_LIMITS.webhookJson);

const isCore = (channel: string) => (CORE_CHANNELS as readonly string[]).includes(channel);

const catalogs = new WeakMap<PluginRegistry, PluginChannel[]>();

/**
 * The channels the loaded plugins add, with their address kind and the schemas of addresses and
 * content (the first loaded plugin of a channel declares them). Computed once per registry.
 * A plugin channel whose address kind is `device` is refused at load (plugin-loader.ts); it is
 * skipped here too, for registries built without the loader.
 */
export function pluginChannels(registry: Pick<PluginRegistry, 'loaded'>): PluginChannel[] {
  const cached = catalogs.get(registry as PluginRegistry);
  if (cached) return cached;
  const byChannel = new Map<string, PluginChannel>();
  for (const { plugin } of registry.loaded) {
    if (isCore(plugin.channel) || plugin.addressKind === 'device') continue;
    const known = byChannel.get(plugin.channel);
    if (known) {
      known.plugins.push(plugin.name);
      continue;
    }
    byChannel.set(plugin.channel, {
      channel: plugin.channel,
      plugins: [plugin.name],
      addressKind: plugin.addressKind,
      address: plugin.addressSchema ?? DEFAULT_ADDRESS[plugin.addressKind],
      content: plugin.contentSchema ? BOUNDED.pipe(plugin.contentSchema) : DEFAULT_CONTENT,
    });
  }
  const list = [...byChannel.values()].sort((a, b) => a.channel.localeCompare(b.channel));
  catalogs.set(registry as PluginRegistry, list);
  return list;
}

/** Every channel a notification may name: the core's and the loaded plugins'. */
export function channelNames(registry: Pick<PluginRegistry, 'loaded'>): string[] {
  return [...CORE_CHANNELS, ...pluginChannels(registry).map((c) => c.channel)];
}
