import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SDK_VERSION } from '@clarion/plugin-sdk';
import {
  changelog,
  fakeIndexTs,
  fakeTs,
  gitignore,
  indexTs,
  packageJson,
  pluginTs,
  readme,
  type ScaffoldNames,
  testTs,
  tsconfig,
} from './templates';

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A wrong name or folder: said plainly by the CLI. */
export class ScaffoldError extends Error {
  override name = 'UsageError';
}

export interface ScaffoldOptions {
  /** Where to write (default `./clarion-plugin-<name>`); must be absent or empty. */
  dir?: string;
  /** npm scope, e.g. `@acme` → `@acme/clarion-plugin-<name>`. */
  scope?: string;
}

/** The SDK range a new plugin declares: this SDK's minor line (`^0.1.0` for 0.1.4). */
function sdkRange(version: string): string {
  const [major, minor] = version.split('.');
  return `^${major}.${minor}.0`;
}

/** Writes a new plugin package (plugin, fake provider, conformance tests, README); returns its folder. */
export function scaffoldPlugin(name: string, options: ScaffoldOptions = {}): string {
  if (!NAME.test(name))
    throw new ScaffoldError(`plugin name "${name}": kebab-case (a-z, 0-9, single dashes)`);
  if (options.scope !== undefined && !/^@[a-z0-9][a-z0-9._-]*$/.test(options.scope))
    throw new ScaffoldError(`--scope "${options.scope}": an npm scope such as @acme`);
  const bare = `clarion-plugin-${name}`;
  const dir = resolve(options.dir ?? bare);
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new ScaffoldError(`${dir} exists and is not empty: choose another --dir`);
  const words = name.split('-');
  const pascal = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  const names: ScaffoldNames = {
    name,
    packageName: options.scope ? `${options.scope}/${bare}` : bare,
    pascal,
    camel: pascal[0]!.toLowerCase() + pascal.slice(1),
    envPrefix: `CLARION_${name.replace(/-/g, '_').toUpperCase()}`,
    sdkVersion: SDK_VERSION,
    sdkRange: sdkRange(SDK_VERSION),
  };
  const files: Record<string, string> = {
    'package.json': packageJson(names),
    'tsconfig.json': tsconfig,
    'README.md': readme(names),
    'CHANGELOG.md': changelog(names),
    '.gitignore': gitignore,
    'src/index.ts': indexTs(names),
    'src/plugin.ts': pluginTs(names),
    'src/plugin.test.ts': testTs(names),
    [`src/testing/fake-${name}.ts`]: fakeTs(names),
    'src/testing/index.ts': fakeIndexTs(names),
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}
