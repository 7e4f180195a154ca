import { type AnyChannelPlugin, pluginConfigFromEnv, pluginEnvName } from '@clarion/plugin-sdk';

/**
 * The core's former callback variables, still read: each one stands for the plugin setting named
 * beside it when that is not set itself (`CLARION_CALLBACK_SENDGRID_PUBLIC_KEY` is
 * `CLARION_SENDGRID_CALLBACK_PUBLIC_KEY`). Operators configured them before the plugins owned
 * their callbacks.
 */
export const LEGACY_CALLBACK_ENV: Record<string, [plugin: string, key: string][]> = {
  CLARION_CALLBACK_TWILIO_AUTH_TOKEN: [['twilio', 'callbackAuthToken']],
  CLARION_CALLBACK_SENDGRID_PUBLIC_KEY: [['sendgrid', 'callbackPublicKey']],
  CLARION_CALLBACK_MAILCHIMP_KEY: [['mailchimp', 'callbackKey']],
  CLARION_CALLBACK_VONAGE_SECRET: [['vonage', 'callbackSecret']],
  CLARION_CALLBACK_VONAGE_ALGORITHM: [['vonage', 'callbackAlgorithm']],
  CLARION_CALLBACK_MAX_AGE_SECONDS: [
    ['sendgrid', 'callbackMaxAgeSeconds'],
    ['vonage', 'callbackMaxAgeSeconds'],
  ],
};

/** The environment with each legacy variable copied to the plugin setting it stands for, where that is unset. */
function withLegacyNames(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [legacy, targets] of Object.entries(LEGACY_CALLBACK_ENV)) {
    const value = env[legacy];
    if (value === undefined || value === '') continue;
    for (const [plugin, key] of targets) {
      const name = pluginEnvName(plugin, key);
      if ((out[name] === undefined || out[name] === '') && out[`${name}_FILE`] === undefined)
        out[name] = value;
    }
  }
  return out;
}

/**
 * A plugin's callback settings (`callbacks.settings`) from CLARION_<PLUGIN>_<KEY>, the legacy
 * names and the sandbox's values: `{}` for a plugin without any. A wrong value throws
 * PluginConfigError naming the variable.
 */
export function callbackSettingsFromEnv(
  plugin: AnyChannelPlugin,
  env: NodeJS.ProcessEnv,
  sandbox: Record<string, unknown> = {},
): Record<string, unknown> {
  const settings = plugin.callbacks?.settings;
  if (!settings) return {};
  const known = Object.keys(settings.shape);
  const overrides = Object.fromEntries(Object.entries(sandbox).filter(([k]) => known.includes(k)));
  return pluginConfigFromEnv({ ...plugin, config: settings }, withLegacyNames(env), overrides) as Record<
    string,
    unknown
  >;
}

/** The callback settings' keys, which are settings of the plugin too (CLARION_<PLUGIN>_<KEY> is no typo). */
export function callbackSettingKeys(plugin: AnyChannelPlugin): string[] {
  const settings = plugin.callbacks?.settings;
  return settings ? Object.keys(settings.shape) : [];
}
