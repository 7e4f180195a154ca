import { Redis } from 'ioredis';

/**
 * The most memory Redis used (`INFO memory` used_memory) at any sample since start, over what it
 * used at start, in MiB. Redis is one server for every program on the machine: the figure holds
 * theirs too, which in a bench run is nothing.
 */
export class RedisMemoryPeak {
  private peak = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly base: number,
  ) {}

  static async start(url: string): Promise<RedisMemoryPeak> {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    return new RedisMemoryPeak(redis, await usedMemory(redis));
  }

  async sample(): Promise<void> {
    this.peak = Math.max(this.peak, (await usedMemory(this.redis)) - this.base);
  }

  async stop(): Promise<number> {
    await this.sample();
    this.redis.disconnect();
    return this.peak / 2 ** 20;
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
}
