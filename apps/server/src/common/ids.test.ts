import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate, version } from 'uuid';
import { newId, uuidv7Floor } from './ids';

test('newId: valid UUIDv7s, all different, each larger than the one before, stamped with the time made', () => {
  const before = uuidv7Floor(new Date());
  // Many ids in the same milliseconds, across many refills of the random pool (256 ids a refill).
  const ids = Array.from({ length: 50_000 }, newId);
  const after = uuidv7Floor(new Date(Date.now() + 1));
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    assert.ok(validate(id) && version(id) === 7, id);
    assert.ok(id >= before && id < after, `${id} made between ${before} and ${after}`);
    if (i > 0) assert.ok(id > ids[i - 1]!, `${id} after ${ids[i - 1]}`);
  }
});
