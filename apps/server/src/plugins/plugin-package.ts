import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SDK = '@clarion/plugin-sdk';

/** The folder of the installed package `name` that holds `file` (its resolved entry point). */
export function packageDirOf(file: string, name: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === name) return dir;
    } catch {
      // no package.json here (or not JSON): keep walking up
    }
  }
  return undefined;
}

/** The `version` in a package folder's package.json. */
export function packageVersion(dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  try {
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

function resolvedSdk(from?: string): string | undefined {
  try {
    const file = from ? require.resolve(SDK, { paths: [from] }) : require.resolve(SDK);
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

/**
 * A warning when the plugin in `pluginDir` resolves another copy of the SDK than the server's
 * (npm installed one beside it): its error classes and helpers are then not the server's. Errors
 * are classified by brand, so sends still work, but two versions may disagree on the contract.
 */
export function sdkCopyWarning(pluginName: string, pluginDir: string | undefined): string | undefined {
  if (!pluginDir) return undefined;
  const theirs = resolvedSdk(pluginDir);
  const ours = resolvedSdk();
  if (!theirs || !ours || theirs === ours) return undefined;
  const theirDir = packageDirOf(theirs, SDK) ?? dirname(theirs);
  const ourDir = packageDirOf(ours, SDK) ?? dirname(ours);
  const version = packageVersion(theirDir) ?? 'unknown version';
  return `plugin "${pluginName}" resolves its own copy of ${SDK} (${version} at ${theirDir}), not the server's (${ourDir}); install the plugin without the SDK (it is a peer dependency) so both use one copy`;
}
