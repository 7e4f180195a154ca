import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CpuMeter, pidsNamed } from './cpu';

export interface Ceiling {
  perSecond: number;
  /** CPU per job: this process (BullMQ's client side, producer and worker) and a local Redis (0 if remote). */
  cpuMsPerJob: { client: number; redis: number };
}

/**
 * The raw BullMQ rate on this machine, measured in the same run as the end-to-end figure: jobs
 * added with addBulk and completed by a no-op worker, one process. Clarion cannot beat it, so it
 * is the ceiling the end-to-end number is read against. A first, untimed pass of `warmupJobs`
 * brings this process's JIT to its steady state, as the bench's warm-up does for the servers.
 */
export async function bullmqCeiling(
  redisUrl: string,
  prefix: string,
  jobs: number,
  warmupJobs = 0,
): Promise<Ceiling> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-ceiling', { connection, prefix });
  let done = 0;
  let target = 0;
  let finish: () => void = () => undefined;
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    'bench-ceiling',
    async () => {
      if (++done === target) finish();
    },
    { connection: workerConnection, prefix, concurrency: 100, removeOnComplete: { count: 0 } },
  );
  await worker.waitUntilReady();
  /** Adds `n` jobs 1,000 at a time and waits until the worker has completed them. */
  const pass = async (n: number) => {
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    target = done + n;
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
          name: 'noop',
          data: { i: i + k },
          opts: { removeOnComplete: true },
        })),
      );
    }
    await finished;
  };
  if (warmupJobs > 0) await pass(warmupJobs);
  const meter = new CpuMeter({ redis: () => pidsNamed('redis-server') });
  const client = process.cpuUsage();
  const started = process.hrtime.bigint();
  await pass(jobs);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const clientUsed = process.cpuUsage(client);
  const { redis = 0 } = meter.used();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  // BullMQ closes only connections it created itself.
  workerConnection.disconnect();
  connection.disconnect();
  return {
    perSecond: jobs / seconds,
    cpuMsPerJob: { client: (clientUsed.user + clientUsed.system) / 1000 / jobs, redis: redis / jobs },
  };
}
