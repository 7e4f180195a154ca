// Runs commands for the image test: podman with runc (crun cannot run here), output captured.
import { spawnSync } from 'node:child_process';

/** Runs `cmd args`; throws with its output unless it succeeds or `allowFail`. */
export function run(cmd, args, { allowFail = false, quiet = false, input, timeoutMs = 1_800_000 } = {}) {
  const result = spawnSync(cmd, args, {
    encoding: 'utf8',
    input,
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (result.error) throw result.error;
  if (result.status !== 0 && !allowFail) {
    const tail = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}:\n${tail}`);
  }
  if (!quiet && result.status !== 0) process.stderr.write(result.stderr ?? '');
  return result;
}

export function podman(args, options) {
  return run('podman', ['--runtime', 'runc', ...args], options);
}

/** Whether podman is installed (the test is skipped where it is not). */
export function havePodman() {
  return spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0;
}
