import { freePort, waitFor } from '@clarion/testkit';
import { Redis } from 'ioredis';
import type { Processes, Spawned } from './processes';

/**
 * A private redis-server that a test may stop and start (the shared one must never be touched).
 * Nothing persists (`--save "" --appendonly no`), so a restart comes back empty, like a
 * failed-over or rebuilt Redis: whatever was only in Redis is gone. Given a `dir`, a snapshot
 * the test takes (`snapshot()`) is what a restart comes back with: a stale copy.
 */
export class OwnRedis {
  private server: Spawned | undefined;

  private constructor(
    private readonly processes: Processes,
    readonly port: number,
    private readonly dir: string | undefined,
  ) {}

  static async start(processes: Processes, options: { dir?: string } = {}): Promise<OwnRedis> {
    const redis = new OwnRedis(processes, await freePort(), options.dir);
    await redis.up();
    return redis;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on this port (again) and waits until it answers PING. */
  async up(): Promise<void> {
    this.server = this.processes.spawn(`redis:${this.port}`, 'redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      ...(this.dir ? ['--dir', this.dir, '--dbfilename', 'dump.rdb'] : []),
    ]);
    const server = this.server;
    await waitFor(
      `redis-server on ${this.port}`,
      async () => {
        if (server.child.exitCode !== null) throw new Error(`redis-server exited: ${server.output()}`);
        const probe = new Redis(this.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          retryStrategy: () => null,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { intervalMs: 50 },
    );
  }

  /** Writes the snapshot a restart loads (SAVE: done when this resolves). Needs a `dir`. */
  async snapshot(): Promise<void> {
    if (!this.dir) throw new Error('OwnRedis: snapshot() needs a dir');
    const client = new Redis(this.url, { maxRetriesPerRequest: 0 });
    try {
      await client.save();
    } finally {
      client.disconnect();
    }
  }

  /** Kills it hard (SIGKILL): clients see the connection drop with no goodbye. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.kill('SIGKILL');
    await server.exited;
  }
}
