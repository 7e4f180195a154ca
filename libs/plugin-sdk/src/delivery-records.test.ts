import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchedRecordLookup, type DeliveryRecord, type DeliveryRecords } from './delivery-records';

/** A record store that answers when told to, and notes each call's ids. */
class HeldRecords implements DeliveryRecords {
  readonly calls: string[][] = [];
  private release: (() => void)[] = [];
  constructor(private readonly known: Map<string, DeliveryRecord>) {}
  lookup(ids: readonly string[]): Promise<ReadonlyMap<string, DeliveryRecord>> {
    this.calls.push([...ids]);
    return new Promise((resolve) => this.release.push(() => resolve(this.known)));
  }
  answerAll(): void {
    for (const r of this.release.splice(0)) r();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchedRecordLookup', () => {
  test('lookups made together share one call; those made while calls are out share the next', async () => {
    const sent: DeliveryRecord = { sent: true, open: false, providerMessageId: 'p1' };
    const records = new HeldRecords(new Map([['a', sent]]));
    const lookup = new BatchedRecordLookup(records, 1000, 1);

    const first = ['a', 'b', 'c'].map((id) => lookup.get(id));
    await turn();
    assert.deepEqual(records.calls, [['a', 'b', 'c']]);
    const later = ['d', 'e', 'a'].map((id) => lookup.get(id));
    await turn();
    assert.equal(records.calls.length, 1, 'waits while the one allowed call is out');

    records.answerAll();
    assert.deepEqual(await Promise.all(first), [sent, undefined, undefined]);
    await turn();
    assert.deepEqual(records.calls[1], ['d', 'e', 'a']);
    records.answerAll();
    assert.deepEqual(await Promise.all(later), [undefined, undefined, sent]);
  });

  test('a failed call fails only its own lookups', async () => {
    let fail = true;
    const lookup = new BatchedRecordLookup({
      lookup: async () => {
        if (fail) throw new Error('database away');
        return new Map();
      },
    });
    await assert.rejects(lookup.get('x'), /database away/);
    fail = false;
    assert.equal(await lookup.get('y'), undefined);
  });
});
