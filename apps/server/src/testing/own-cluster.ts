import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@clarion/testkit';
import { Redis } from 'ioredis';
import type { Processes, Spawned } from './processes';

const run = promisify(execFile);

/** A short-lived client for one command against one node, failing fast instead of retrying. */
export async function askNode<T>(port: number, command: string, ...args: (string | number)[]): Promise<T> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.call(command, ...args)) as T;
  } finally {
    client.disconnect();
  }
}

/** `INFO`-style `key:value` lines. */
function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** `CLUSTER SLOTS`: [start, end, [ip, port, id], ...replicas]. */
type SlotRange = [number, number, [string, number, string], ...[string, number, string][]];

/**
 * A private Redis Cluster: six `redis-server` processes on free ports (three masters, one replica
 * each), joined by `redis-cli --cluster create`, each with its own bus port and a temp dir that is
 * removed at `stop()`. Nothing persists. A node is declared failed after a second, so a killed
 * master's replica takes over within a few seconds.
 */
export class OwnCluster {
  private readonly nodes = new Map<number, Spawned>();

  private constructor(
    private readonly processes: Processes,
    private readonly dir: string,
    readonly ports: number[],
  ) {}

  static async start(processes: Processes, size = 6): Promise<OwnCluster> {
    const ports: number[] = [];
    const busPorts: number[] = [];
    while (ports.length + busPorts.length < 2 * size) {
      const port = await freePort();
      if (!ports.includes(port) && !busPorts.includes(port))
        (ports.length < size ? ports : busPorts).push(port);
    }
    const cluster = new OwnCluster(processes, mkdtempSync(join(tmpdir(), 'clarion-cluster-')), ports);
    for (const [i, port] of ports.entries()) cluster.spawn(port, busPorts[i]!);
    await waitFor(
      'cluster nodes answer',
      async () => {
        for (const port of ports)
          if ((await askNode<string>(port, 'PING').catch(() => '')) !== 'PONG') return false;
        return true;
      },
      { intervalMs: 100, timeoutMs: 30_000 },
    );
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await cluster.awaitHealthy();
    return cluster;
  }

  /** `REDIS_CLUSTER_NODES` for this cluster: two seed nodes, as a deployment would list a few. */
  get setting(): string {
    return this.ports
      .slice(0, 2)
      .map((p) => `127.0.0.1:${p}`)
      .join(',');
  }

  /** Ports of the live nodes. */
  get alive(): number[] {
    return this.ports.filter(
      (p) => this.nodes.get(p)?.child.exitCode === null && !this.nodes.get(p)?.child.signalCode,
    );
  }

  /** Every slot served by a master, every master with a replica in sync, as each live node sees it. */
  async awaitHealthy(): Promise<void> {
    await waitFor(
      'cluster state ok on every node, each master with a replica in sync',
      async () => {
        for (const port of this.alive) {
          const info = fields(await askNode<string>(port, 'CLUSTER', 'INFO').catch(() => ''));
          if (info.cluster_state !== 'ok') return false;
          const role = fields(await askNode<string>(port, 'INFO', 'replication').catch(() => ''));
          if (role.role === 'slave' && role.master_link_status !== 'up') return false;
        }
        const ranges = await this.slots();
        return ranges.length > 0 && ranges.every((r) => r.length >= 4);
      },
      { intervalMs: 200, timeoutMs: 60_000 },
    );
  }

  /** The master port and replica ports serving `key`'s slot. */
  async ownerOf(key: string): Promise<{ slot: number; master: number; replicas: number[] }> {
    const port = this.alive[0]!;
    const slot = await askNode<number>(port, 'CLUSTER', 'KEYSLOT', key);
    const range = (await this.slots()).find((r) => r[0] <= slot && slot <= r[1]);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    const [, , master, ...replicas] = range;
    return { slot, master: Number(master[1]), replicas: replicas.map((r) => Number(r[1])) };
  }

  /**
   * Kills the master serving `key` hard (SIGKILL) and waits until one of its replicas serves the
   * slot and every live node says the cluster is ok; returns the old and new master ports.
   */
  async killMasterOf(key: string): Promise<{ killed: number; promoted: number }> {
    const before = await this.ownerOf(key);
    const node = this.nodes.get(before.master)!;
    node.kill('SIGKILL');
    await node.exited;
    let promoted = 0;
    await waitFor(
      'a replica promoted for the slot',
      async () => {
        const now = await this.ownerOf(key).catch(() => undefined);
        if (!now || now.master === before.master) return false;
        promoted = now.master;
        return true;
      },
      { intervalMs: 200, timeoutMs: 60_000 },
    );
    await waitFor(
      'cluster state ok again',
      async () => {
        for (const port of this.alive) {
          const info = fields(await askNode<string>(port, 'CLUSTER', 'INFO').catch(() => ''));
          if (info.cluster_state !== 'ok') return false;
        }
        return true;
      },
      { intervalMs: 200, timeoutMs: 60_000 },
    );
    return { killed: before.master, promoted };
  }

  /** Stops every node and removes the temp dir. */
  async stop(): Promise<void> {
    const nodes = [...this.nodes.values()];
    for (const n of nodes) n.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async slots(): Promise<SlotRange[]> {
    for (const port of this.alive) {
      const ranges = await askNode<SlotRange[]>(port, 'CLUSTER', 'SLOTS').catch(() => undefined);
      if (ranges) return ranges;
    }
    return [];
  }

  private spawn(port: number, busPort: number): void {
    this.nodes.set(
      port,
      this.processes.spawn(`cluster:${port}`, 'redis-server', [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        // A dead master is failed over after about a second, as a test can wait for.
        '--cluster-node-timeout',
        '1000',
        // However long a replica was cut off, it may take over (nothing else would serve the slots).
        '--cluster-replica-validity-factor',
        '0',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ]),
    );
  }
}
