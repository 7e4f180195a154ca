import { Redis } from 'ioredis';

/** Where the kit's Redis is: TEST_REDIS_URL, else the local default. */
export function kitRedisUrl(explicit?: string): string {
  return explicit ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * Fails within `timeoutMs` with an error naming the URL and the variable that moves it, where
 * BullMQ would wait for Redis forever without a word (its connections retry without end).
 */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined); // the rejected connect() below says it
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new Error(
      `the Clarion plugin test kit needs Redis and cannot reach ${url} (${(error as Error).message}); start redis-server, or set TEST_REDIS_URL to a reachable Redis`,
    );
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}
