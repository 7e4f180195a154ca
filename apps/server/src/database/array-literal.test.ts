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

/** Strings that need no quotes in an array literal: what most of the delivery path's arrays hold. */
const BARE = [
  '0193a8f2-7c1e-7b3a-9d2e-4f5a6b7c8d9e',
  'sent',
  'provider_failed',
  'fcm',
  '2026-12-07T18:00:00.000Z',
  '42',
  '-1',
  'a.b:c@d+e=f/g',
];

describe('fastArrayParam: an array of strings as the text node-postgres would send', () => {
  test('the same literal as node-postgres for awkward strings, nulls and undefined', () => {
    for (const s of AWKWARD) assert.equal(fastArrayParam([s]), prepareValue([s]), JSON.stringify(s));
    assert.equal(fastArrayParam(AWKWARD), prepareValue(AWKWARD));
    assert.equal(fastArrayParam(['a b', undefined, 'c d']), prepareValue(['a b', undefined, 'c d']));
    assert.equal(fastArrayParam([]), prepareValue([]));
  });

  test('ids, words and timestamps go bare; the word NULL in any case is quoted', () => {
    assert.equal(fastArrayParam(BARE), `{${BARE.join(',')}}`);
    assert.equal(fastArrayParam(['NULL', 'Null', 'nulls', null]), '{"NULL","Null",nulls,NULL}');
    assert.equal(fastArrayParam(['sent', 'a b', '']), '{sent,"a b",""}');
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
    assert.deepEqual(fastArrayParams([1, ['a', null]]), [1, '{a,NULL}']);
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

  test('bare elements read back as sent: text[], uuid[], timestamptz[], and NULL apart from the word', async () => {
    const words = [...BARE, 'NULL', 'null', 'nulls', null];
    const { rows } = await client.query<{ t: (string | null)[]; u: string[]; at: Date[] }>(
      'SELECT $1::text[] AS t, $2::uuid[] AS u, $3::timestamptz[] AS at',
      [fastArrayParam(words), fastArrayParam([BARE[0]!]), fastArrayParam([BARE[4]!])],
    );
    assert.deepEqual(rows[0]!.t, words);
    assert.deepEqual(rows[0]!.u, [BARE[0]]);
    assert.equal(rows[0]!.at[0]!.toISOString(), BARE[4]);
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
