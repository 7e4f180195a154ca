import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginConfigToEnv } from '@clarion/plugin-sdk';

export interface SandboxCommandOptions {
  port: number;
  env: NodeJS.ProcessEnv;
}

const portOf = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name}: not a port: ${value}`);
  return port;
};

/**
 * `clarion sandbox`: every fake provider. In a container of its own (compose) it binds HOST
 * (0.0.0.0), names itself CLARION_SANDBOX_PUBLIC_HOST in endpoints and its TLS certificate,
 * takes fixed ports per fake (CLARION_SANDBOX_<FAKE>_PORT) and writes each plugin's settings as
 * files into CLARION_SANDBOX_SETTINGS_DIR, which Clarion reads with CLARION_PLUGIN_SETTINGS_DIR.
 */
export async function runSandbox({ port, env }: SandboxCommandOptions): Promise<string> {
  // Loaded here, not at the top: `clarion start` in production never loads the fake providers.
  const { allFakes, Sandbox } = await import('@clarion/sandbox');
  const ports = {
    apns: portOf(env, 'CLARION_SANDBOX_APNS_PORT'),
    fcm: portOf(env, 'CLARION_SANDBOX_FCM_PORT'),
    webpush: portOf(env, 'CLARION_SANDBOX_WEBPUSH_PORT'),
    smtp: portOf(env, 'CLARION_SANDBOX_SMTP_PORT'),
  };
  const sandbox = await Sandbox.start({
    fakes: allFakes(Object.fromEntries(Object.entries(ports).filter(([, p]) => p !== undefined))),
    port,
    host: env.HOST ?? '127.0.0.1',
    ...(env.CLARION_SANDBOX_PUBLIC_HOST ? { publicHost: env.CLARION_SANDBOX_PUBLIC_HOST } : {}),
  });
  const dir = env.CLARION_SANDBOX_SETTINGS_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    for (const [plugin, config] of Object.entries(sandbox.pluginConfigs())) {
      for (const [name, value] of Object.entries(pluginConfigToEnv(plugin, config))) {
        // Written aside, then renamed: a reader never sees half a key.
        writeFileSync(join(dir, `.${name}`), value);
        renameSync(join(dir, `.${name}`), join(dir, name));
      }
    }
  }
  return sandbox.url;
}
