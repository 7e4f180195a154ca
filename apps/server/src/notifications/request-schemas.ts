import { pluginChannels } from '../plugins/plugin-channels';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { buildNotificationRequestSchema, notificationRequestSchema } from '../templates/notification-request';

type RequestSchema = typeof notificationRequestSchema;
const schemas = new WeakMap<PluginRegistry, RequestSchema>();

/** The notification request schema for these loaded plugins (their channels accepted), built once. */
export function notificationRequestSchemaFor(registry: PluginRegistry): RequestSchema {
  let schema = schemas.get(registry);
  if (!schema) {
    const plugins = pluginChannels(registry);
    schema = plugins.length === 0 ? notificationRequestSchema : buildNotificationRequestSchema(plugins);
    schemas.set(registry, schema);
  }
  return schema;
}
