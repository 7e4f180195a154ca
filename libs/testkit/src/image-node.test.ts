import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { imageNode } from './image-node';

test("deploy/Dockerfile's runtime stage: its heap caps and the V8 flags its entry point gives node", () => {
  const { nodeOptions, nodeArgs } = imageNode();
  assert.match(nodeOptions, /--max-old-space-size=\d+/);
  assert.deepEqual(nodeArgs, ['--heap-growing-percent=60']);
});

test('a Dockerfile whose entry point does not run the CLI with node is refused, not read as no flags', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'image-node-')), 'Dockerfile');
  writeFileSync(
    file,
    'FROM a AS build\nFROM b\nENV NODE_OPTIONS="--max-old-space-size=256"\nENTRYPOINT ["/bin/sh"]\n',
  );
  assert.throws(() => imageNode(file), /does not run node on the CLI/);
});
