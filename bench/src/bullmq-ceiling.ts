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
 * is the ceiling the end-to-end number is read against.
 */
export async function bullmqCeiling(redisUrl: string, prefix: string, jobs: number): Promise<Ceiling> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-ceiling', { connection, prefix });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    'bench-ceiling',
    async () => {
      done++;
      if (done === jobs) finish();
    },
    { connection: workerConnection, prefix, concurrency: 100, removeOnComplete: { count: 0 } },
  );
  await worker.waitUntilReady();
  const meter = new CpuMeter({ redis: () => pidsNamed('redis-server') });
  const client = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < jobs; i += 1000) {
    const n = Math.min(1000, jobs - i);
    await queue.addBulk(
      Array.from({ length: n }, (_, k) => ({
        name: 'noop',
        data: { i: i + k },
        opts: { removeOnComplete: true },
      })),
    );
  }
  await finished;
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
