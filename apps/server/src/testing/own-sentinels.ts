import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@clarion/testkit';
import { askNode } from './own-cluster';
import type { Processes, Spawned } from './processes';

export const SENTINEL_MASTER = 'm';

/** `SENTINEL MASTER` answers a flat field/value list. */
function fields(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

/**
 * A private Redis master, one replica and three Sentinels (quorum 2) on free ports, so a test can
 * kill the master and watch the Sentinels promote the replica. Nothing persists.
 */
export class OwnSentinels {
  private readonly nodes = new Map<number, Spawned>();
  readonly sentinelPorts: number[] = [];

  private constructor(
    private readonly processes: Processes,
    readonly masterPort: number,
    readonly replicaPort: number,
  ) {}

  static async start(processes: Processes): Promise<OwnSentinels> {
    const set = new OwnSentinels(processes, await freePort(), await freePort());
    set.redis(set.masterPort, []);
    set.redis(set.replicaPort, ['--replicaof', '127.0.0.1', String(set.masterPort)]);
    await waitFor(
      'replica in sync',
      async () =>
        (await askNode<string>(set.replicaPort, 'INFO', 'replication').catch(() => '')).includes(
          'master_link_status:up',
        ),
      { intervalMs: 100, timeoutMs: 30_000 },
    );
    const dir = mkdtempSync(join(tmpdir(), 'clarion-sentinel-'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its file as it learns the set, so each gets its own writable copy.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${set.masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
          '',
        ].join('\n'),
      );
      set.nodes.set(port, processes.spawn(`sentinel:${port}`, 'redis-server', [conf, '--sentinel']));
      set.sentinelPorts.push(port);
    }
    // A failover needs the Sentinels to know each other and the replica (they learn it over the master).
    await waitFor(
      'sentinels see the replica and each other',
      async () => {
        for (const port of set.sentinelPorts) {
          const m = fields(
            await askNode<string[]>(port, 'SENTINEL', 'MASTER', SENTINEL_MASTER).catch(() => []),
          );
          if (m['num-slaves'] !== '1' || m['num-other-sentinels'] !== '2') return false;
        }
        return true;
      },
      { intervalMs: 200, timeoutMs: 60_000 },
    );
    return set;
  }

  /** `REDIS_SENTINELS` for these Sentinels. */
  get setting(): string {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** The master's port as each Sentinel answers it. */
  async masterPorts(): Promise<number[]> {
    return Promise.all(
      this.sentinelPorts.map(async (port) => {
        const addr = await askNode<[string, string] | null>(
          port,
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          SENTINEL_MASTER,
        );
        return Number(addr?.[1] ?? 0);
      }),
    );
  }

  /** Kills the master hard (SIGKILL); the Sentinels promote the replica about a second later. */
  async killMaster(): Promise<void> {
    const master = this.nodes.get(this.masterPort)!;
    master.kill('SIGKILL');
    await master.exited;
  }

  /**
   * Freezes (SIGSTOP) or thaws (SIGCONT) one Sentinel: it still accepts connections, as a
   * stalled host does, but answers nothing until thawed.
   */
  freezeSentinel(port: number, frozen: boolean): void {
    this.nodes.get(port)!.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Kills the master hard (SIGKILL) and waits until every Sentinel names the replica instead. */
  async killMasterAndAwaitFailover(): Promise<void> {
    await this.killMaster();
    await waitFor(
      'sentinels promote the replica',
      async () => (await this.masterPorts().catch(() => [])).every((p) => p === this.replicaPort),
      { intervalMs: 200, timeoutMs: 60_000 },
    );
    await waitFor(
      'the replica acts as master',
      async () =>
        (await askNode<string>(this.replicaPort, 'INFO', 'replication').catch(() => '')).includes(
          'role:master',
        ),
      { intervalMs: 100, timeoutMs: 30_000 },
    );
  }

  private redis(port: number, extra: string[]): void {
    this.nodes.set(
      port,
      this.processes.spawn(`redis:${port}`, 'redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
        ...extra,
      ]),
    );
  }
}
