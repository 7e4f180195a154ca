import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@clarion/testkit';
import { Redis } from 'ioredis';

/** `aof`: every write appended (fsync every second); `none`: memory only, a restart comes back empty. */
export type RedisPersistence = 'aof' | 'none';

/**
 * The drill's own redis-server on a free port and a temp dir, which it kills and restarts; the
 * machine's shared Redis is never touched. It can also play a stale failover: snapshot now, go on
 * working, crash, and come back from that snapshot.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private snapshotTaken = false;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly persistence: RedisPersistence,
  ) {}

  static async start(persistence: RedisPersistence): Promise<RedisServer> {
    const server = new RedisServer(
      mkdtempSync(join(tmpdir(), 'clarion-drill-redis-')),
      await freePort(),
      persistence,
    );
    await server.up();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on its port and dir (loading whatever the dir holds) and waits for PONG. */
  async up(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--dbfilename',
      'dump.rdb',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      ...(this.persistence === 'aof'
        ? ['--appendonly', 'yes', '--appendfsync', 'everysec']
        : ['--appendonly', 'no']),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    await waitFor(
      `redis-server on ${this.port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        return (await this.command((r) => r.ping())) === 'PONG';
      },
      { intervalMs: 50 },
    );
  }

  /** SIGKILL: clients see the connection drop with no goodbye; only what is on disk survives. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** Kill, forget everything on disk, start: a Redis rebuilt or failed over to an empty replica. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    this.wipe();
    await this.up();
  }

  /** BGSAVE now and keep that file: the state a replica a moment behind would have. */
  async snapshot(): Promise<void> {
    await this.command(async (r) => {
      await r.bgsave();
      // The fork has started when BGSAVE answers; the file is complete when it is done.
      await waitFor('BGSAVE to finish', async () => !(await saving(r)), { intervalMs: 20 });
    });
    copyFileSync(join(this.dir, 'dump.rdb'), this.snapshotPath);
    this.snapshotTaken = true;
  }

  /** Kill and come back from the last snapshot only: every write since is gone. */
  async restartFromSnapshot(): Promise<void> {
    if (!this.snapshotTaken) throw new Error('no snapshot taken');
    await this.kill();
    this.wipe();
    copyFileSync(this.snapshotPath, join(this.dir, 'dump.rdb'));
    // With AOF on, Redis would ignore the RDB; the rollback scenarios run without AOF.
    await this.up();
  }

  /** Beside the data dir, so that wiping the dir keeps it. */
  private get snapshotPath(): string {
    return `${this.dir}.snapshot.rdb`;
  }

  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.snapshotPath, { force: true });
  }

  private wipe(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  private async command<T>(run: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await run(r);
    } finally {
      r.disconnect();
    }
  }
}

async function saving(r: Redis): Promise<boolean> {
  return /rdb_bgsave_in_progress:1/.test(await r.info('persistence'));
}
