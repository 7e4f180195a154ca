import { setTimeout as sleep } from 'node:timers/promises';
import type { OwnPostgres } from '@clarion/testkit';
import type { Cluster } from './cluster';
import type { Receiver } from './receiver';
import type { RedisPersistence, RedisServer } from './redis-server';

/** What a scenario acts on while the client sends. */
export interface FaultContext {
  pg: OwnPostgres;
  redis: RedisServer;
  cluster: Cluster;
  receiver: Receiver;
  /** Resolves once this share (0–1) of the notifications was acknowledged. */
  atAccepted(share: number): Promise<void>;
  /** The system is whole again after a fault: "time to drain" counts from the last of these. */
  recovered(): void;
}

export interface Scenario {
  name: string;
  /** One line: what is done, for the table's legend. */
  description: string;
  redis: RedisPersistence;
  /** Injects the faults; returns once the last one is over. */
  run(ctx: FaultContext): Promise<void>;
}

/** How long a crashed server stays down before it is started again. */
const DOWN_MS = 1500;

/**
 * Stops each process in turn and starts it again, as an orchestrator would. A killed worker's
 * jobs are recovered by the other worker: the fault is over at the kill. A stopped API refuses
 * requests until it is back: that fault is over when it answers again.
 */
async function restartEach(
  ctx: FaultContext,
  signal: NodeJS.Signals,
  plan: [number, string][],
): Promise<void> {
  const restarting = new Map<string, Promise<void>>();
  for (const [share, name] of plan) {
    await ctx.atAccepted(share);
    // A process still coming back from its last crash is crashed once it is up, not while down.
    await restarting.get(name);
    await ctx.cluster.signal(name, signal);
    if (name !== 'api') ctx.recovered();
    const again = (async () => {
      if (signal === 'SIGKILL') await sleep(1000);
      await ctx.cluster.startAgain(name);
      if (name === 'api') ctx.recovered();
    })();
    // A crashed process is restarted beside the load (the next crash, of another process, does
    // not wait for it); a rolling restart waits for each process to be back before the next.
    if (signal === 'SIGKILL') restarting.set(name, again);
    else await again;
  }
  await Promise.all(restarting.values());
}

/** Snapshot, a second more of work, crash, and back from the snapshot: a failover to a replica 1 s behind. */
async function rollback(ctx: FaultContext): Promise<void> {
  await ctx.redis.snapshot();
  await sleep(1000);
  await ctx.redis.kill();
  await sleep(DOWN_MS);
  await ctx.redis.restartFromSnapshot();
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-sigkill',
    description: 'SIGKILL a worker 3 times (at 25/50/75 % accepted), each started again 1 s later',
    redis: 'aof',
    run: (ctx) =>
      restartEach(ctx, 'SIGKILL', [
        [0.25, 'worker1'],
        [0.5, 'worker2'],
        [0.75, 'worker1'],
      ]),
  },
  {
    name: 'redis-restart-aof',
    description: 'Redis (AOF, fsync every second) SIGKILLed at 40 %, started again 1.5 s later',
    redis: 'aof',
    async run(ctx) {
      await ctx.atAccepted(0.4);
      await ctx.redis.kill();
      await sleep(DOWN_MS);
      await ctx.redis.up();
      ctx.recovered();
    },
  },
  {
    name: 'redis-restart-empty',
    description: 'Redis without persistence SIGKILLed at 40 %, back empty 1.5 s later',
    redis: 'none',
    async run(ctx) {
      await ctx.atAccepted(0.4);
      await ctx.redis.kill();
      await sleep(DOWN_MS);
      await ctx.redis.restartEmpty();
      ctx.recovered();
    },
  },
  {
    name: 'redis-rollback',
    description: 'at 50 %: BGSAVE, 1 s more work, SIGKILL, back from that snapshot (healthy traffic)',
    redis: 'none',
    async run(ctx) {
      await ctx.atAccepted(0.5);
      await rollback(ctx);
      ctx.recovered();
    },
  },
  {
    name: 'redis-rollback-backlog',
    description:
      'the same with a backlog: the receiver answers in 500 ms until the fault, workers fall behind',
    redis: 'none',
    async run(ctx) {
      ctx.receiver.slow(500);
      await ctx.atAccepted(0.6);
      await rollback(ctx);
      ctx.receiver.fast();
      ctx.recovered();
    },
  },
  {
    name: 'postgres-restart',
    description: 'PostgreSQL stopped -m immediate at 40 %, started again 1.5 s later',
    redis: 'aof',
    async run(ctx) {
      await ctx.atAccepted(0.4);
      await ctx.pg.down('immediate');
      await sleep(DOWN_MS);
      await ctx.pg.up();
      ctx.recovered();
    },
  },
  {
    name: 'rolling-sigterm',
    description: 'SIGTERM and start again: the API at 20 %, worker 1 at 45 %, worker 2 at 70 %',
    redis: 'aof',
    run: (ctx) =>
      restartEach(ctx, 'SIGTERM', [
        [0.2, 'api'],
        [0.45, 'worker1'],
        [0.7, 'worker2'],
      ]),
  },
];

export function scenarioNamed(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}
