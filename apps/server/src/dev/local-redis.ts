import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DevProblem } from './dev-problem';
import { stopStaleService } from './stale-process';

/** Whether something accepts connections on the port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Something dev mode needs is missing from this machine: the message says how to provide it (no stack trace). */
export class MissingServiceError extends Error {
  override name = 'MissingServiceError';
}

/** Starts `redis-server` from PATH for dev mode, or explains how to provide Redis. */
export async function startLocalRedis(
  dataDir: string,
  port: number,
): Promise<{ url: string; stop: () => Promise<void>; stoppedStale?: number }> {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error || which.status !== 0) {
    throw new MissingServiceError(
      'Redis is needed and no REDIS_URL is set, and `redis-server` is not installed.\n' +
        '  Either install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)\n' +
        '  or point Clarion at one: REDIS_URL=redis://host:6379 scripts/clarion dev',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis-server.pid');
  const stoppedStale = await stopStaleService(pidFile, 'redis-server', 'A redis-server', 'SIGTERM');
  const url = `redis://127.0.0.1:${port}`;
  if (await answers(port))
    throw new DevProblem(
      `Port ${port} (dev mode's Redis) is taken by another program.\n` +
        '  Set CLARION_DEV_REDIS_PORT to a free port, or REDIS_URL to use that Redis.',
    );
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  // Written here, read by the next start: a redis-server this process could not stop (SIGKILL) is found again.
  if (child.pid) writeFileSync(pidFile, `${child.pid}\n`);
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  for (let i = 0; i < 50; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return {
        url,
        stop: async () => {
          await stopChild(child);
          rmSync(pidFile, { force: true });
        },
        ...(stoppedStale ? { stoppedStale } : {}),
      };
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  rmSync(pidFile, { force: true });
  throw new DevProblem(`redis-server did not answer on port ${port} within 5 s.`);
}

/**
 * SIGTERM, then waits until the process is gone (SIGKILL after 5 s): dev mode exits right after,
 * and a redis-server still shutting down would keep its port for a moment after Clarion is gone.
 */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
