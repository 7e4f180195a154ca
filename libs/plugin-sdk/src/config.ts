import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AnyChannelPlugin } from './plugin';
import { isSecretSchema } from './secret';

/** `teamId` of plugin `apns` → `CLARION_APNS_TEAM_ID`. One rule, written down once. */
export function pluginEnvName(pluginName: string, key: string): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return `CLARION_${pluginName.replace(/-/g, '_').toUpperCase()}_${snake}`;
}

export class PluginConfigError extends Error {
  constructor(
    readonly plugin: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration for plugin "${plugin}":\n  ${problems.join('\n  ')}`);
    this.name = 'PluginConfigError';
  }
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
}

/**
 * Builds a plugin's config from environment variables: each key of its (object) schema is
 * read from `CLARION_<PLUGIN>_<KEY>`, or from the file named by `CLARION_<PLUGIN>_<KEY>_FILE`
 * (Kubernetes secrets mounted as files). Values stay strings: schemas coerce numbers.
 * `overrides` win over the environment (the dev mode's sandbox endpoints, tests).
 */
export function pluginConfigFromEnv(
  plugin: AnyChannelPlugin,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
): unknown {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(objectShape(plugin.config))) {
    const name = pluginEnvName(plugin.name, key);
    const fileName = env[`${name}_FILE`];
    if (fileName !== undefined && fileName !== '') {
      try {
        raw[key] = readFileSync(fileName, 'utf8').trim();
      } catch (error) {
        problems.push(`${name}_FILE: cannot read ${fileName}: ${(error as Error).message}`);
      }
    } else if (env[name] !== undefined && env[name] !== '') {
      raw[key] = env[name];
    }
  }
  Object.assign(raw, overrides);
  const parsed = plugin.config.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      problems.push(`${key ? pluginEnvName(plugin.name, key) : plugin.name}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new PluginConfigError(plugin.name, problems);
  return parsed.data;
}

/** A copy of a config object safe to log: secret keys replaced by "[redacted]". */
export function redactConfig(plugin: AnyChannelPlugin, config: unknown): Record<string, unknown> {
  const shape = objectShape(plugin.config);
  const out: Record<string, unknown> = {};
  if (config === null || typeof config !== 'object') return out;
  for (const [key, value] of Object.entries(config)) {
    out[key] = isSecretSchema(shape[key]) ? '[redacted]' : value;
  }
  return out;
}

/**
 * The inverse of pluginConfigFromEnv: the environment variables that configure `pluginName`
 * with `config` (strings, numbers and booleans; objects as JSON). Used to start `clarion start`
 * processes pointed at the sandbox exactly as an operator would configure them.
 */
export function pluginConfigToEnv(
  pluginName: string,
  config: Record<string, unknown>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    env[pluginEnvName(pluginName, key)] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return env;
}
