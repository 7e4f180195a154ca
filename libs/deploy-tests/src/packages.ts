import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

/** Folders of the packages published to a registry: the SDK and every plugin. */
export function publishablePackageDirs(): string[] {
  const plugins = readdirSync(join(repoRoot, 'plugins')).map((d) => join(repoRoot, 'plugins', d));
  return [join(repoRoot, 'libs', 'plugin-sdk'), ...plugins];
}

/** Packs `dir` with pnpm (workspace ranges replaced as on publish) into `dest`; returns the tarball's path. */
export function pnpmPack(dir: string, dest: string): string {
  const packed = spawnSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`pnpm pack in ${dir} failed: ${packed.stderr}${packed.stdout}`);
  const line = packed.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.trim().endsWith('.tgz'));
  if (!line) throw new Error(`pnpm pack in ${dir} named no tarball: ${packed.stdout}`);
  const file = line.trim();
  return file.startsWith('/') ? file : join(dest, file);
}

/** The file names in a tarball (without the leading `package/`). */
export function tarballFiles(tarball: string): string[] {
  const listed = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`tar tzf ${tarball}: ${listed.stderr}`);
  return listed.stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}

/** package.json as it is inside a tarball. */
export function tarballManifest(tarball: string): Record<string, unknown> {
  const out = spawnSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`reading package.json of ${tarball}: ${out.stderr}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}
