import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageContent } from '@clarion/plugin-sdk';
import { jsonBytesBound } from './json-bytes-bound';
import { checkRenderedSize, RENDERED_LIMITS } from './rendered-limits';

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('jsonBytesBound: an upper bound on a value’s JSON bytes, without serializing it', () => {
  test('never below the real size, whatever the strings hold', () => {
    const values: unknown[] = [
      '',
      'plain ascii',
      '"quotes" and \\ backslashes',
      '\u0000\u0001\u001f control characters',
      'é € — ü two- and three-byte characters',
      '😀🎉 astral characters',
      '\ud800 a lone surrogate \udfff',
      -1.7976931348623157e308,
      5e-324,
      { subject: 'Hi', html: '<p>"x"</p>\n'.repeat(100), headers: { 'List-Unsubscribe': '<https://u>' } },
      [1, 'two', null, true, { three: [3] }],
      { skipped: undefined, kept: 1 },
    ];
    for (const v of values) assert.ok(jsonBytesBound(v) >= bytes(v), `${JSON.stringify(v).slice(0, 40)}`);
  });

  test('what it cannot bound without serializing is Infinity: a Date (toJSON), a class, deep nesting', () => {
    assert.equal(jsonBytesBound(new Date()), Number.POSITIVE_INFINITY);
    assert.equal(jsonBytesBound({ at: new Map() }), Number.POSITIVE_INFINITY);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 70; i++) deep = [deep];
    assert.equal(jsonBytesBound(deep), Number.POSITIVE_INFINITY);
  });

  test('checkRenderedSize still refuses a delivery past 2 MB as JSON when each body is within its own limit', () => {
    const body = 'x'.repeat(RENDERED_LIMITS.emailBodyBytes);
    const content = {
      subject: 's',
      html: body,
      text: body,
      headers: { a: 'b'.repeat(100_000) },
    } as MessageContent;
    assert.throws(
      () => checkRenderedSize('email', content, 'content.email'),
      (e: Error) => e.message.includes(`${bytes(content)} bytes`) && e.message.includes('2097152-byte'),
    );
    // Escaping makes the difference: 300,000 quotes are 600,000 bytes as JSON.
    const quoted = { subject: 's', html: '"'.repeat(900_000), text: '"'.repeat(300_000) } as MessageContent;
    assert.ok(bytes(quoted) > RENDERED_LIMITS.deliveryBytes);
    assert.throws(() => checkRenderedSize('email', quoted, 'content.email'), /content\.email/);
    checkRenderedSize(
      'email',
      { subject: 's', html: body.slice(0, 50_000) } as MessageContent,
      'content.email',
    );
  });
});
