import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import { fastArrayParam, fastArrayParams } from './array-literal';

// node-postgres' own conversion (outside its typings): the rule fastArrayParam must match exactly.
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

/** Strings where the two quotings could part: every control character, surrogates, quotes, braces. */
const AWKWARD: (string | null)[] = [
  '',
  'NULL',
  'null',
  ' spaced ',
  'a,b',
  '{braces}',
  'quote " inside',
  'back\\slash',
  '\\"',
  '"',
  '\\',
  ...Array.from({ length: 32 }, (_, c) => `ctl ${String.fromCharCode(c)} end`),
  '\u007f delete',
  'é ü 中文',
  '😀 pair',
  'lone \ud800 high',
  'lone \udc00 low',
  '\u2028 line separator',
  null,
  JSON.stringify({ title: 'Sale "today"', body: 'a\\b\nc\t\u0001', emoji: '😀', lone: '\ud800' }),
];

describe('fastArrayParam: an array of strings as the text node-postgres would send', () => {
  test('the same literal as node-postgres for awkward strings, nulls and undefined', () => {
    for (const s of AWKWARD) assert.equal(fastArrayParam([s]), prepareValue([s]), JSON.stringify(s));
    assert.equal(fastArrayParam(AWKWARD), prepareValue(AWKWARD));
    assert.equal(fastArrayParam(['a', undefined, 'b']), prepareValue(['a', undefined, 'b']));
    assert.equal(fastArrayParam([]), prepareValue([]));
  });

  test('anything but strings and nulls is left to node-postgres', () => {
    const mixed = [['nested'], 1, new Date(0), Buffer.from('x'), { a: 1 }, true];
    for (const v of mixed) {
      const array = ['s', v];
      assert.equal(fastArrayParam(array), array);
    }
    assert.equal(fastArrayParam('not an array'), 'not an array');
    const values = [1, 'x', null];
    assert.equal(fastArrayParams(values), values, 'no array: the same parameters');
    assert.deepEqual(fastArrayParams([1, ['a', null]]), [1, '{"a",NULL}']);
  });
});

describe('fastArrayParam against PostgreSQL', () => {
  let db: TestDatabase;
  let client: Client;
  before(async () => {
    db = await createTestDatabase('array_literal');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  after(async () => {
    await client.end();
    await db.drop();
  });

  test('text[]: every awkward string comes back as sent', async () => {
    // PostgreSQL refuses NUL in text, and UTF-8 cannot carry a lone surrogate; the rest is stored.
    const sent = AWKWARD.filter((s) => s === null || (!s.includes('\u0000') && s.isWellFormed()));
    const { rows } = await client.query<{ a: (string | null)[] }>('SELECT $1::text[] AS a', [
      fastArrayParam(sent),
    ]);
    assert.deepEqual(rows[0]!.a, sent);
  });

  test('jsonb[]: JSON texts with escapes, emoji and control characters come back as the same values', async () => {
    const docs = [
      { title: 'Sale "today"', body: 'a\\b\nc\t\u0001 end', emoji: '😀', quote: '\'"' },
      { nested: { list: [1, 'two', null], empty: '' } },
      null,
    ];
    const texts = docs.map((d) => (d === null ? null : JSON.stringify(d)));
    const { rows } = await client.query<{ a: unknown[] }>('SELECT $1::jsonb[] AS a', [fastArrayParam(texts)]);
    assert.deepEqual(rows[0]!.a, docs);
  });
});
