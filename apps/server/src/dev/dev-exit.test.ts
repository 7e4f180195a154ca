import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@clarion/testkit';
import { postgresDir } from './embedded-postgres';
import { stopStaleService } from './stale-process';

const BANNER_END = /Send a first notification to the demo user:/;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `clarion dev` runs PostgreSQL and redis-server as processes of their own: whatever ends it, they
 * must end too, and a start after a `kill -9` (the one exit nothing can clean up after) must
 * recover rather than fail with a bare `undefined`. Real child processes, real signals.
 */
describe('`clarion dev` leaves nothing running, whatever stops it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clarion-devexit-'));
  const main = join(__dirname, '..', 'cli', 'main.js');
  let ports: { api: number; pg: number; redis: number; sandbox: number };
  const children: ChildProcess[] = [];

  const start = (): { child: ChildProcess; output: () => string; exited: Promise<number | null> } => {
    const child = spawn(process.execPath, [main, 'dev'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CLARION_DATA_DIR: dataDir,
        PORT: String(ports.api),
        CLARION_DEV_PG_PORT: String(ports.pg),
        CLARION_DEV_REDIS_PORT: String(ports.redis),
        CLARION_SANDBOX_PORT: String(ports.sandbox),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    return { child, output: () => out, exited };
  };
  const started = async (run: ReturnType<typeof start>) => {
    await waitFor(
      `the dev banner (output so far: ${run.output().slice(-500)})`,
      () => BANNER_END.test(run.output()) || run.child.exitCode !== null,
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    assert.equal(run.child.exitCode, null, `clarion dev exited: ${run.output()}`);
  };
  const servicesUp = async () => [await listening(ports.pg), await listening(ports.redis)];

  before(async () => {
    ports = {
      api: await freePort(),
      pg: await freePort(),
      redis: await freePort(),
      sandbox: await freePort(),
    };
  });
  after(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // Whatever a failed run left running, found by its pid files, before the files go.
    const pgDir = postgresDir(dataDir);
    await stopStaleService(join(pgDir, 'postmaster.pid'), 'postgres', 'PostgreSQL', 'SIGINT').catch(
      () => undefined,
    );
    await stopStaleService(
      join(dataDir, 'redis', 'redis-server.pid'),
      'redis-server',
      'Redis',
      'SIGTERM',
    ).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
  });

  test('after SIGKILL the next start stops the PostgreSQL and redis-server left behind, and says so', async () => {
    const first = start();
    await started(first);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.deepEqual(await servicesUp(), [true, true], 'SIGKILL cannot stop them: both are left running');

    const second = start();
    await started(second);
    assert.match(
      second.output(),
      /Stopped a PostgreSQL \(pid \d+\) and a redis-server \(pid \d+\) left running by an earlier `clarion dev` that was killed\./,
    );
    const res = await fetch(`http://127.0.0.1:${ports.api}/readyz`);
    assert.equal(res.status, 200, 'it works on the same data directory');

    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0, 'SIGINT stops it cleanly');
    for (const port of Object.values(ports))
      assert.equal(await listening(port), false, `port ${port} closed`);
  });

  test('a start that fails (the API port is taken) says so and stops the PostgreSQL and redis-server it started', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(ports.api, '127.0.0.1', r));
    try {
      const run = start();
      assert.equal(await run.exited, 1, run.output());
      assert.match(
        run.output(),
        new RegExp(`clarion: Port ${ports.api} \\(the API\\) is taken by another program: set PORT`),
      );
      assert.doesNotMatch(run.output(), /^undefined$/m);
      assert.deepEqual(await servicesUp(), [false, false], 'nothing left running');
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});
