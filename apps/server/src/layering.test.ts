import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { folderImports, readLayers } from './layering';

// The server's top-level folders form layers: docs/architecture.md lists them top to bottom, and a
// folder may import only folders of lower layers. This keeps the folders free of cycles, so each
// can be read (and changed) knowing only what lies below it.
const src = join(__dirname, '..', 'src');
const page = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'architecture.md'), 'utf8');

test('every top-level folder of apps/server/src is in exactly one layer of docs/architecture.md', () => {
  const layers = readLayers(page);
  const listed = layers.flat();
  assert.deepEqual(
    [...new Set(listed)].length,
    listed.length,
    `a folder is listed twice: ${listed.join(', ')}`,
  );
  const folders = [...folderImports(src).keys()].sort();
  assert.deepEqual([...listed].sort(), folders);
});

test('a folder imports only folders of lower layers (so there are no cycles between folders)', () => {
  const layers = readLayers(page);
  const layerOf = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
  const wrong: string[] = [];
  for (const [folder, imports] of folderImports(src)) {
    for (const [target, files] of imports) {
      // Layers are listed top first, so a lower layer has a larger index.
      if ((layerOf.get(target) ?? -1) <= (layerOf.get(folder) ?? -1)) {
        wrong.push(`${folder} -> ${target} (${files.join(', ')})`);
      }
    }
  }
  assert.deepEqual(wrong, [], 'imports against the layering of docs/architecture.md');
});
