import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Batcher } from './batcher';
import { isItemError } from './refused-value';

class Refused extends Error {}

/** A flush that refuses the whole batch when any item is negative, like one SQL statement would. */
function strictFlush(calls: number[][]) {
  return async (items: number[]) => {
    calls.push(items);
    if (items.some((n) => n < 0)) throw new Refused(`refused ${items.filter((n) => n < 0).join(',')}`);
    return items.map((n) => n * 2);
  };
}

describe('Batcher', () => {
  test('concurrent submits share one flush and each gets its own result', async () => {
    const calls: number[][] = [];
    const b = new Batcher(strictFlush(calls), { maxItems: 100, maxWaitMs: 5 });
    assert.deepEqual(await Promise.all([1, 2, 3].map((n) => b.submit(n))), [2, 4, 6]);
    assert.equal(calls.length, 1);
  });

  test('with isolate, a refused item fails alone and the rest of its batch succeeds', async () => {
    const calls: number[][] = [];
    const b = new Batcher(strictFlush(calls), {
      maxItems: 100,
      maxWaitMs: 5,
      isolate: (e) => e instanceof Refused,
    });
    const items = Array.from({ length: 100 }, (_, i) => (i === 37 ? -1 : i));
    const results = await Promise.allSettled(items.map((n) => b.submit(n)));
    assert.deepEqual(
      results.map((r) => r.status),
      items.map((n) => (n < 0 ? 'rejected' : 'fulfilled')),
    );
    assert.deepEqual(
      results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      items.filter((n) => n >= 0).map((n) => n * 2),
    );
    // Halving: about 2·log2(100) flushes, not one per item.
    assert.ok(calls.length <= 15, `${calls.length} flushes`);
  });

  test('an error that is not about an item (the database away) fails the whole batch at once', async () => {
    const calls: number[][] = [];
    const b = new Batcher(
      async (items: number[]) => {
        calls.push(items);
        throw new Error('connection refused');
      },
      { maxItems: 100, maxWaitMs: 5, isolate: (e) => e instanceof Refused },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => b.submit(n)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.equal(calls.length, 1);
  });

  test('an item the statement cannot be built with (JSON.stringify overflowing) fails alone', async () => {
    // Builds one parameter from all items, as a multi-row INSERT does: one bad item breaks the build.
    const b = new Batcher(
      async (items: unknown[]) => {
        const param = items.map((item) => JSON.stringify(item));
        return param.map((p) => p.length);
      },
      { maxItems: 100, maxWaitMs: 5, isolate: isItemError },
    );
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    const items: unknown[] = Array.from({ length: 30 }, (_, i) => (i === 11 ? deep : { i }));
    const results = await Promise.allSettled(items.map((item) => b.submit(item)));
    assert.deepEqual(
      results.map((r) => r.status),
      items.map((_, i) => (i === 11 ? 'rejected' : 'fulfilled')),
    );
  });
});
