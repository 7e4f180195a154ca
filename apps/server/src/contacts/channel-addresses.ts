import { z } from 'zod';
import type { PluginChannel } from '../plugins/plugin-channels';
import { pluginChannels } from '../plugins/plugin-channels';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { INBOX_CHANNEL } from './inbox-address';
import { upsertUserSchema } from './user-schemas';

/**
 * `addresses` of `PUT /v1/users/:id`: one address per channel a loaded plugin adds, checked by
 * that plugin's schema; null removes it.
 */
export function addressesSchema(all: readonly PluginChannel[]) {
  // Every user has an inbox: nothing to store for it.
  const channels = all.filter((c) => c.channel !== INBOX_CHANNEL);
  const names = channels.map((c) => c.channel);
  return z
    .strictObject(Object.fromEntries(channels.map((c) => [c.channel, c.address.nullable().optional()])), {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `no loaded plugin adds channel ${issue.keys.map((k) => `"${k}"`).join(', ')}${
              names.length > 0
                ? ` (addresses are for: ${names.join(', ')})`
                : ' (no plugin channel is loaded; e-mail, phone and webhookUrl have their own fields)'
            }`
          : undefined,
    })
    .describe(
      'Addresses on the channels loaded plugins add, one per channel, e.g. `{"slack": "https://hooks.slack.com/…"}`; null removes one. Server keys only',
    )
    .transform((a) => a as Record<string, string | null | undefined>);
}

/** `PUT /v1/users/:id` with the loaded plugins' channels in `addresses`. */
export function upsertUserSchemaWith(channels: readonly PluginChannel[]) {
  return upsertUserSchema.extend({ addresses: addressesSchema(channels).optional() }).strict();
}

type UpsertSchema = ReturnType<typeof upsertUserSchemaWith>;
const schemas = new WeakMap<PluginRegistry, UpsertSchema>();

export function upsertUserSchemaFor(registry: PluginRegistry): UpsertSchema {
  let schema = schemas.get(registry);
  if (!schema) {
    schema = upsertUserSchemaWith(pluginChannels(registry));
    schemas.set(registry, schema);
  }
  return schema;
}

/** A user's address for a plugin channel, as `UsersService` stores it. */
export interface ChannelAddress {
  channel: string;
  kind: PluginChannel['addressKind'];
  /** null: remove it. */
  address: string | null;
}

/** The addresses of a validated request, each with its channel's address kind. */
export function channelAddresses(
  registry: PluginRegistry,
  addresses: Record<string, string | null | undefined> | undefined,
): ChannelAddress[] {
  if (!addresses) return [];
  const kinds = new Map(pluginChannels(registry).map((c) => [c.channel, c.addressKind]));
  return Object.entries(addresses).flatMap(([channel, address]) => {
    const kind = kinds.get(channel);
    return kind && address !== undefined ? [{ channel, kind, address }] : [];
  });
}
