import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SETTING = /^CLARION_[A-Z0-9_]+$/;

/**
 * The plugin settings kept as files in a folder (CLARION_PLUGIN_SETTINGS_DIR): each file named
 * `CLARION_<PLUGIN>_<KEY>` holds that setting's value, as a mounted Kubernetes Secret or the
 * compose sandbox's shared volume lays them out. Variables of the environment win over files.
 */
export function withSettingsDir(env: NodeJS.ProcessEnv, dir: string | undefined): NodeJS.ProcessEnv {
  if (!dir) return env;
  const fromFiles: NodeJS.ProcessEnv = {};
  for (const name of readdirSync(dir)) {
    if (SETTING.test(name)) fromFiles[name] = readFileSync(join(dir, name), 'utf8').replace(/\n$/, '');
  }
  return { ...fromFiles, ...env };
}
