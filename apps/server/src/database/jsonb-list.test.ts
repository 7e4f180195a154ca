import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import { jsonbListParam, jsonbListSql } from './jsonb-list';

describe('a list of JSON texts as one jsonb parameter, read back as jsonb[] (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pg: Client;
  before(async () => {
    db = await createTestDatabase('jsonblist');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  after(async () => {
    await pg.end();
    await db.drop();
  });

  const roundTrip = async (texts: (string | null)[]) =>
    (
      await pg.query<{ v: unknown; n: string }>(
        `SELECT v, n FROM unnest(${jsonbListSql('$1')}) WITH ORDINALITY AS x(v, n) ORDER BY n`,
        [jsonbListParam(texts)],
      )
    ).rows.map((r) => r.v);

  test('every element in order, a null as SQL NULL, awkward strings intact', async () => {
    const values = [
      { html: '<a href="x">quote " back\\slash</a>', ctl: '\u0001\u001f\n\t', uni: 'é 中文 😀 \u2028' },
      null,
      [1, 'two', { three: null }],
      'a string',
      { nested: { deep: [true, false] } },
    ];
    const texts = values.map((v) => (v === null ? null : JSON.stringify(v)));
    assert.deepEqual(await roundTrip(texts), values);
  });

  test('an empty list is an empty array; JSON null inside a value stays', async () => {
    assert.deepEqual(await roundTrip([]), []);
    assert.deepEqual(await roundTrip(['{"a":null}']), [{ a: null }]);
  });

  test('a thousand elements keep their order', async () => {
    const texts = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i }));
    assert.deepEqual(
      await roundTrip(texts),
      texts.map((_, i) => ({ i })),
    );
  });
});
