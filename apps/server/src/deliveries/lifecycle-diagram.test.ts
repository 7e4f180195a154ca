import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  ARCHITECTURE_PAGE,
  LIFECYCLE_END,
  LIFECYCLE_START,
  lifecycleMermaid,
  withLifecycle,
} from './lifecycle-diagram';
import { TRANSITIONS } from './transitions';

describe('the lifecycle diagram in docs/architecture.md', () => {
  test('is the one generated from the transition table', () => {
    const page = readFileSync(ARCHITECTURE_PAGE, 'utf8');
    assert.ok(page.includes(LIFECYCLE_START) && page.includes(LIFECYCLE_END), 'the page has the markers');
    assert.equal(
      page,
      withLifecycle(page),
      `${ARCHITECTURE_PAGE} is out of date: run \`pnpm --filter @clarion/server build && pnpm --filter @clarion/server docs:lifecycle\``,
    );
  });

  test('draws one arrow per move of the table, and only those', () => {
    const arrows = lifecycleMermaid()
      .split('\n')
      .filter((l) => l.includes('-->') && !l.includes('[*]'))
      .map((l) => l.trim().split(':')[0]);
    const moves = Object.entries(TRANSITIONS).flatMap(([from, to]) =>
      Object.keys(to).map((t) => `${from} --> ${t}`),
    );
    assert.deepEqual(arrows.sort(), moves.sort());
  });

  test('replaces only what is between the markers, and adds the block to a page without it', () => {
    const page = `# Architecture\n\nbefore\n\n${LIFECYCLE_START}\nstale\n${LIFECYCLE_END}\n\nafter\n`;
    const out = withLifecycle(page);
    assert.ok(out.startsWith('# Architecture\n\nbefore\n\n') && out.endsWith('\n\nafter\n'));
    assert.ok(!out.includes('stale') && out.includes('pending --> queued: enqueue, outcome'));
    assert.equal(withLifecycle(out), out);
    assert.ok(withLifecycle('# Architecture\n').includes(LIFECYCLE_START));
  });
});
