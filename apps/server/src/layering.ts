import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/** The files at the top of src (main module, entry points) form the `(root)` folder. */
export const ROOT = '(root)';

/** Relative module specifiers of a TypeScript source: static, re-export and dynamic imports. */
function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    found.push(m[1]!);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const folderOf = (path: string): string => (path.includes(sep) ? path.split(sep)[0]! : ROOT);

/**
 * For each top-level folder of `src` (tests excluded): the other folders it imports, each with the
 * files that do.
 */
export function folderImports(src: string): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(src)) {
    const from = relative(src, file);
    const folder = folderOf(from);
    const imports = graph.get(folder) ?? new Map<string, string[]>();
    graph.set(folder, imports);
    for (const specifier of relativeSpecifiers(readFileSync(file, 'utf8'))) {
      const target = folderOf(normalize(join(dirname(from), specifier)));
      if (target === folder) continue;
      imports.set(target, [...(imports.get(target) ?? []), from]);
    }
  }
  return graph;
}

/**
 * The layers table between `<!-- layers:start -->` and `<!-- layers:end -->`, top layer first: one
 * row per layer, its folders written as `code` in the second column.
 */
export function readLayers(page: string): string[][] {
  const block = /<!-- layers:start -->([\s\S]*?)<!-- layers:end -->/.exec(page)?.[1];
  if (block === undefined) throw new Error('docs/architecture.md has no layers table');
  return block
    .split('\n')
    .filter((line) => /^\|\s*\d+\s*\|/.test(line))
    .map((line) => [...(line.split('|')[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}
