import { existsSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DevProblem } from './dev-problem';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The command line of a process, where the system shows it (/proc); undefined elsewhere. */
function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\u0000', ' ');
  } catch {
    return undefined;
  }
}

/**
 * A dev-mode service left running by an earlier `clarion dev` that died without stopping it
 * (killed with SIGKILL, a crash of the machine's session): its pid file in the data directory
 * names a live process. Stops it when the process is provably that service (its command line
 * names `program`), so the new start can take the data directory and port; otherwise explains.
 * Returns the pid stopped, if any; a pid file whose process is gone is removed.
 */
export async function stopStaleService(
  pidFile: string,
  program: string,
  what: string,
  signal: NodeJS.Signals,
): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    rmSync(pidFile, { force: true });
    return undefined;
  }
  const command = commandOf(pid);
  if (!command?.includes(program)) {
    throw new DevProblem(
      `${what} from an earlier \`clarion dev\` may still be running (pid ${pid}, named in ${pidFile}).\n` +
        `  Stop it (kill ${pid}) if it is, or delete ${pidFile} if that pid is now another program, and start again.`,
    );
  }
  process.kill(pid, signal);
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited >= 20_000)
      throw new DevProblem(
        `${what} left running by an earlier \`clarion dev\` (pid ${pid}) did not stop within 20 s.\n` +
          `  Stop it (kill -9 ${pid}) and start again.`,
      );
    await sleep(100);
  }
  rmSync(pidFile, { force: true });
  return pid;
}
