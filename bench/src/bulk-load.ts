import { Pool } from 'undici';
import type { LoadResult } from './load';

interface BatchAnswer {
  results: { status: number }[];
}

/**
 * Sends `total` notifications through `POST /v1/notifications/batch`, `batchSize` per request and
 * `concurrency` requests in flight. Counts items, not requests: `accepted` is the items answered
 * 202, `rejected` the others by their own status (or the whole request's, when it failed).
 */
export async function driveBatches(
  baseUrl: string,
  auth: string,
  total: number,
  batchSize: number,
  concurrency: number,
  body: (i: number) => unknown,
): Promise<LoadResult> {
  const pool = new Pool(baseUrl, { connections: concurrency, pipelining: 1 });
  const rejected: Record<string, number> = {};
  const reject = (status: number, n = 1) => {
    rejected[status] = (rejected[status] ?? 0) + n;
  };
  let accepted = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const first = next;
      if (first >= total) return;
      const count = Math.min(batchSize, total - first);
      next += count;
      const notifications = Array.from({ length: count }, (_, k) => body(first + k));
      const res = await pool.request({
        path: '/v1/notifications/batch',
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ notifications }),
      });
      if (res.statusCode !== 207) {
        await res.body.dump();
        reject(res.statusCode, count);
        continue;
      }
      const { results } = (await res.body.json()) as BatchAnswer;
      for (const r of results) {
        if (r.status === 202) accepted++;
        else reject(r.status);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  await pool.close();
  return { accepted, rejected, elapsedMs };
}
