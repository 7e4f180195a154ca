import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, waitFor } from '@clarion/testkit';
import { checkAnswersFrom } from './checked-fetch';

/** The compiled CLI (`clarion start`), next to this file in dist/. */
export const CLI = join(__dirname, '..', 'cli', 'main.js');

export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  /** Last lines the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Children started by one test file. `killAll()` belongs in an `after()` hook so a failing
 * test leaves no orphan behind.
 */
export class Processes {
  private readonly running = new Set<Spawned>();

  /** Spawns a node script with the given environment; output is kept in memory. */
  spawnNode(name: string, args: string[], env: NodeJS.ProcessEnv): Spawned {
    return this.spawn(name, process.execPath, args, env);
  }

  /** Spawns any program; output is kept in memory. */
  spawn(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Spawned {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    const spawned: Spawned = {
      name,
      child,
      output: () => lines.join('\n'),
      exited,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
    this.running.add(spawned);
    void exited.then(() => this.running.delete(spawned));
    return spawned;
  }

  /**
   * `clarion start` with a role on a chosen port; resolves once `/readyz` answers 200
   * (database, Redis and plugins up), so the caller can send at once.
   */
  async startClarion(
    name: string,
    role: 'api' | 'worker' | 'all',
    env: NodeJS.ProcessEnv,
    { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
  ): Promise<Spawned & { url: string }> {
    const port = await freePort();
    const spawned = this.spawnNode(name, [CLI, 'start'], {
      CLARION_SHUTDOWN_DRAIN_MS: '0', // tests stop their processes with SIGTERM; no drain unless asked
      ...env,
      CLARION_ROLE: role,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    const url = `http://127.0.0.1:${port}`;
    let ended = false;
    void spawned.exited.then(() => {
      ended = true;
    });
    try {
      await waitFor(
        `${name} ready`,
        async () => {
          if (ended) throw new Error(`${name} exited`);
          return (await fetch(`${url}/readyz`)).status === 200;
        },
        { timeoutMs, intervalMs: 100 },
      );
    } catch (error) {
      spawned.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${spawned.output()}`);
    }
    // Its answers are checked against the OpenAPI document until it exits.
    void spawned.exited.then(checkAnswersFrom(url));
    return Object.assign(spawned, { url });
  }

  /** Processes still running. */
  list(): Spawned[] {
    return [...this.running];
  }

  /** SIGKILLs whatever is still running and waits for it to be gone. */
  async killAll(): Promise<void> {
    const left = [...this.running];
    for (const p of left) p.kill('SIGKILL');
    await Promise.all(left.map((p) => p.exited));
  }
}
