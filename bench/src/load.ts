import { Pool } from 'undici';

export interface LoadResult {
  accepted: number;
  rejected: Record<string, number>;
  /** ms from the first request to the last answer. */
  elapsedMs: number;
}

/**
 * Sends `total` requests with `concurrency` in flight over keep-alive connections. `body(i)` is
 * built at send time (so it can carry the send timestamp for end-to-end latency).
 */
export async function drive(
  baseUrl: string,
  auth: string,
  total: number,
  concurrency: number,
  body: (i: number) => unknown,
): Promise<LoadResult> {
  const pool = new Pool(baseUrl, { connections: concurrency, pipelining: 1 });
  const rejected: Record<string, number> = {};
  let accepted = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const res = await pool.request({
        path: '/v1/notifications',
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body(i)),
      });
      await res.body.dump();
      if (res.statusCode === 202) accepted++;
      else rejected[res.statusCode] = (rejected[res.statusCode] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  await pool.close();
  return { accepted, rejected, elapsedMs };
}
