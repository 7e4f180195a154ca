import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIQUID_LIMITS, tagProblem } from './liquid-limits';

test('tagProblem names the path of the string over the limit, through objects and arrays', () => {
  const over = '{{ 1 }}'.repeat(LIQUID_LIMITS.tagsPerString + 1);
  const problem = tagProblem({ a: [{ b: 'fine {{ x }}' }, { c: over }], d: 'ok' });
  assert.deepEqual(problem?.path, ['a', '1', 'c']);
  assert.match(problem?.message ?? '', /2001 Liquid tags, over the 2000/);
  assert.deepEqual(tagProblem(over)?.path, [], 'the value itself');
  assert.equal(tagProblem({ a: ['{{ x }}', { b: '{% if y %}{% endif %}' }], n: 1, z: null }), undefined);
});
