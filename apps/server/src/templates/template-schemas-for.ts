import { pluginChannels } from '../plugins/plugin-channels';
import type { PluginRegistry } from '../plugins/plugin-registry';
import {
  buildPreviewSchema,
  buildPublishTemplateSchema,
  previewSchema,
  publishTemplateSchema,
} from './template-schemas';

interface Schemas {
  publish: typeof publishTemplateSchema;
  preview: typeof previewSchema;
}
const cache = new WeakMap<PluginRegistry, Schemas>();

/** The templates API's schemas with the loaded plugins' channels, built once per registry. */
export function templateSchemasFor(registry: PluginRegistry): Schemas {
  let schemas = cache.get(registry);
  if (!schemas) {
    const plugins = pluginChannels(registry);
    schemas =
      plugins.length === 0
        ? { publish: publishTemplateSchema, preview: previewSchema }
        : { publish: buildPublishTemplateSchema(plugins), preview: buildPreviewSchema(plugins) };
    cache.set(registry, schemas);
  }
  return schemas;
}
