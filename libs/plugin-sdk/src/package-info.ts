import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SDK_PACKAGE = '@clarion/plugin-sdk';

/** What a plugin states about itself in its package.json: the one place its versions are written. */
export interface PluginPackageInfo {
  /** The package name, e.g. `@acme/clarion-plugin-slack`. */
  name: string;
  /** The package version: becomes the plugin's `version`. */
  version: string;
  /** The `@clarion/plugin-sdk` range of `peerDependencies`: becomes the plugin's `sdkVersion`. */
  sdkRange: string;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  peerDependencies?: Record<string, unknown>;
}

/** The nearest package.json at or above `dir` (a compiled file's `__dirname` is `dist/`, below it). */
export function findPackageJson(dir: string): { file: string; json: PackageJson } {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // none here: keep walking up
    }
    if (text !== undefined) return { file, json: JSON.parse(text) as PackageJson };
    if (dirname(at) === at) throw new Error(`no package.json at or above ${dir}`);
  }
}

/**
 * Reads a plugin's name, version and SDK range from its package.json, so they are written once:
 *
 * ```ts
 * const pkg = readPluginPackage(__dirname);
 * export default defineChannelPlugin({ name: 'slack', version: pkg.version, sdkVersion: pkg.sdkRange, … });
 * ```
 *
 * The SDK range must be a semver range in `peerDependencies` (a workspace keeps `workspace:*` under
 * `devDependencies` for the link): the host refuses a plugin whose range does not admit its SDK.
 */
export function readPluginPackage(dir: string): PluginPackageInfo {
  const { file, json } = findPackageJson(dir);
  const range = json.peerDependencies?.[SDK_PACKAGE];
  if (typeof json.name !== 'string' || typeof json.version !== 'string')
    throw new Error(`${file} has no name or version`);
  if (typeof range !== 'string' || range.trim() === '' || range.startsWith('workspace:'))
    throw new Error(
      `${file} must list ${SDK_PACKAGE} in peerDependencies with a semver range (e.g. "^0.1.0"), not ${JSON.stringify(range ?? null)}`,
    );
  return { name: json.name, version: json.version, sdkRange: range };
}
