import { spawnSync } from 'node:child_process';

/**
 * Runs `clarion migrate` for a run's database. Its report goes to stderr with the bench's own log:
 * stdout carries only the JSON line `pnpm bench` ends with, so it can be piped to jq.
 */
export function migrate(serverMain: string, env: NodeJS.ProcessEnv): void {
  const migrated = spawnSync(process.execPath, [serverMain, 'migrate'], { env, stdio: ['ignore', 2, 2] });
  if (migrated.status !== 0) throw new Error('clarion migrate failed');
}
