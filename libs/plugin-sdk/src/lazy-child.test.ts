import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazyChild } from './lazy-child';
import type { PluginLogger } from './logger';

type Line = [level: string, bindings: Record<string, unknown>, obj: object, msg: string | undefined];

/** A logger that records each line with the bindings of the child that wrote it. */
function recording(
  lines: Line[],
  bindings: Record<string, unknown>,
  made: { children: number },
): PluginLogger {
  return {
    debug: (o, m) => lines.push(['debug', bindings, o, m]),
    info: (o, m) => lines.push(['info', bindings, o, m]),
    warn: (o, m) => lines.push(['warn', bindings, o, m]),
    error: (o, m) => lines.push(['error', bindings, o, m]),
    child: (more) => {
      made.children++;
      return recording(lines, { ...bindings, ...more }, made);
    },
  };
}

test('lazyChild: no child until first written to; then one, with the bindings, for every line', () => {
  const lines: Line[] = [];
  const made = { children: 0 };
  const log = lazyChild(recording(lines, { plugin: 'p' }, made), { deliveryId: 'd1', attempt: 2 });
  assert.equal(made.children, 0, 'made lazily');
  log.warn({ err: 'boom' }, 'first');
  log.info({}, 'second');
  log.debug({}, 'third');
  log.child({ step: 'x' }).error({}, 'fourth');
  assert.equal(made.children, 2, 'the delivery child once, and the child asked for');
  const own = { plugin: 'p', deliveryId: 'd1', attempt: 2 };
  assert.deepEqual(lines, [
    ['warn', own, { err: 'boom' }, 'first'],
    ['info', own, {}, 'second'],
    ['debug', own, {}, 'third'],
    ['error', { ...own, step: 'x' }, {}, 'fourth'],
  ]);
});
