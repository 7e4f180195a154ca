import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** Repository root (libs/deploy-tests/dist/.. /../..). */
export const repoRoot = resolve(__dirname, '..', '..', '..');
export const deployDir = join(repoRoot, 'deploy');
export const chartDir = join(deployDir, 'helm', 'clarion');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A clone of a local checkout (CI clones this one into a temporary folder): the checkout it came from. */
function localOrigin(): string | undefined {
  try {
    const url = execFileSync('git', ['-C', repoRoot, 'remote', 'get-url', 'origin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return url.startsWith('/') ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * HELM_BIN, else the real `helm` on PATH, else the helm-render stand-in in `shared/` next to the
 * repository, or next to the local checkout this one was cloned from.
 */
export function helmBin(): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const helm = onPath('helm');
  if (helm) return helm;
  for (const base of [repoRoot, localOrigin()]) {
    if (!base) continue;
    const standIn = resolve(base, '..', 'shared', 'tools', 'helm-render', 'helm-render');
    if (existsSync(standIn)) return standIn;
  }
  throw new Error(
    'no helm: set HELM_BIN, put `helm` on PATH, or build ../shared/tools/helm-render (its build.sh) next to the repository',
  );
}

/** A tool from Debian's `prometheus` package; a clear error when it is missing. */
export function prometheusTool(name: 'promtool' | 'prometheus'): string {
  const found = onPath(name);
  if (!found) {
    throw new Error(
      `${name} is not on PATH: install Debian's prometheus package (apt-get install -y prometheus); scripts/services.sh does this in CI`,
    );
  }
  return found;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  return execFileSync(cmd, args, {
    cwd: opts.cwd,
    input: opts.input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
}
