import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';

export interface ClarionProcess {
  role: 'api' | 'worker' | 'all';
  /** http://127.0.0.1:<port> — API (role api/all) or health and /metrics (every role). */
  url: string;
  child: ChildProcess;
  /** Resident set size of the process now, in bytes (from /proc; 0 where /proc is absent). */
  rss(): Promise<number>;
  /** Lines the process wrote to stdout and stderr (with `output: 'capture'`). */
  lines(): string[];
  /** SIGTERM (graceful drain) or SIGKILL; resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClarionProcessOptions {
  /** Path of the built CLI, apps/server/dist/cli/main.js. */
  main: string;
  role: 'api' | 'worker' | 'all';
  env: NodeJS.ProcessEnv;
  port?: number;
  /** Where the child's output goes: inherit (default), ignore, or capture (read with `lines()`). */
  output?: 'inherit' | 'ignore' | 'capture';
  readyTimeoutMs?: number;
  /** Node's own options before the CLI (V8 flags NODE_OPTIONS does not take, as the image's entry point passes). */
  nodeArgs?: string[];
}

/** Called with each started process's URL; returns what to do once it has exited. */
export type ClarionStartedHook = (url: string) => () => void;
const startedHooks = new Set<ClarionStartedHook>();

/**
 * Runs `hook` for every Clarion process started from now on in this test process (the server's
 * tests check every answer against the OpenAPI document this way).
 */
export function onClarionStarted(hook: ClarionStartedHook): void {
  startedHooks.add(hook);
}

/**
 * Starts `clarion start` as a child process in one role and resolves once `/readyz` answers 200,
 * so tests and the benchmark exercise the real process model (API and worker pods).
 */
export async function startClarionProcess(options: ClarionProcessOptions): Promise<ClarionProcess> {
  const port = options.port ?? (await freePort());
  const stdio = options.output === 'capture' ? 'pipe' : (options.output ?? 'inherit');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main, 'start'], {
    // No drain window unless a test asks for one: every test stops its processes with SIGTERM.
    env: {
      CLARION_SHUTDOWN_DRAIN_MS: '0',
      ...options.env,
      CLARION_ROLE: options.role,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', stdio, stdio],
  });
  const captured: string[] = [];
  if (options.output === 'capture') {
    let partial = '';
    const take = (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      captured.push(...parts);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const proc: ClarionProcess = {
    role: options.role,
    url,
    child,
    lines: () => [...captured],
    async rss() {
      try {
        const { readFile } = await import('node:fs/promises');
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        return kb * 1024;
      } catch {
        return 0;
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      const tail = captured.slice(-15).join('\n');
      throw new Error(
        `clarion ${options.role} exited with code ${child.exitCode} before it was ready${tail ? `:\n${tail}` : ''}`,
      );
    }
    try {
      if ((await fetch(`${url}/readyz`)).ok) {
        for (const hook of startedHooks) void exited.then(hook(url));
        return proc;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`clarion ${options.role} was not ready after ${options.readyTimeoutMs ?? 30_000} ms`);
    }
    await sleep(100);
  }
}
