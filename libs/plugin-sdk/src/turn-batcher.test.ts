import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TurnBatcher } from './turn-batcher';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatcher', () => {
  test('calls of one turn share a run, in order; at most maxBatch a run', async () => {
    const runs: number[][] = [];
    const batcher = new TurnBatcher(async (items: number[]) => {
      runs.push(items);
      return items.map((i) => i * 10);
    }, 3);
    const out = await Promise.all([1, 2, 3, 4, 5].map((i) => batcher.submit(i)));
    assert.deepEqual(out, [10, 20, 30, 40, 50]);
    assert.deepEqual(runs, [
      [1, 2, 3],
      [4, 5],
    ]);
  });

  test('while `concurrency` runs are out, later calls wait and go together', async () => {
    const runs: string[][] = [];
    const release: (() => void)[] = [];
    const batcher = new TurnBatcher(
      (items: string[]) => {
        runs.push(items);
        return new Promise<string[]>((resolve) => release.push(() => resolve(items)));
      },
      1000,
      1,
    );
    const first = batcher.submit('a');
    await turn();
    const later = ['b', 'c'].map((i) => batcher.submit(i));
    await turn();
    assert.deepEqual(runs, [['a']]);
    release.shift()!();
    assert.equal(await first, 'a');
    await turn();
    assert.deepEqual(runs, [['a'], ['b', 'c']]);
    release.shift()!();
    assert.deepEqual(await Promise.all(later), ['b', 'c']);
  });

  test('a failed run fails its own calls only', async () => {
    let fail = true;
    const batcher = new TurnBatcher(async (items: string[]) => {
      if (fail) throw new Error('away');
      return items;
    });
    await assert.rejects(batcher.submit('x'), /away/);
    fail = false;
    assert.equal(await batcher.submit('y'), 'y');
  });
});
