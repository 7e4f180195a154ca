import { unstorableReason } from './storable';

export interface JsonProblem {
  path: string;
  message: string;
}

/** A node being visited; the path is rebuilt from the parents only when a problem is reported. */
interface Frame {
  value: unknown;
  depth: number;
  key: string;
  parent: Frame | undefined;
}

function pathOf(frame: Frame): string {
  const keys: string[] = [];
  for (let f: Frame | undefined = frame; f; f = f.parent) keys.push(f.key);
  return keys.reverse().join('.');
}

/** Keys and paths are echoed in answers and logs: NUL and lone surrogates shown escaped. */
const printable = (text: string) => text.toWellFormed().replaceAll('\u0000', '\\u0000');

/**
 * The first problem in a JSON value: nesting deeper than `maxDepth` (the value itself is depth
 * 0), or a string or key PostgreSQL cannot store (U+0000, an unpaired surrogate). Iterative, so a
 * value nested 100,000 levels deep costs a loop, never the stack.
 */
export function findJsonProblem(
  value: unknown,
  path: string,
  maxDepth = Number.POSITIVE_INFINITY,
): JsonProblem | undefined {
  const stack: Frame[] = [{ value, depth: 0, key: path, parent: undefined }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const v = frame.value;
    if (typeof v === 'string') {
      const message = unstorableReason(v);
      if (message) return { path: printable(pathOf(frame)), message };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (frame.depth >= maxDepth) {
      const inner = Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0;
      if (inner) return { path: printable(pathOf(frame)), message: `nested deeper than ${maxDepth} levels` };
      continue;
    }
    const entries = Array.isArray(v) ? [...v.entries()] : Object.entries(v);
    // Pushed in reverse so the first problem in document order is the one reported.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const child: Frame = { value: item, depth: frame.depth + 1, key: String(key), parent: frame };
      const keyProblem = typeof key === 'string' ? unstorableReason(key) : undefined;
      if (keyProblem) return { path: printable(pathOf(child)), message: `a key ${keyProblem}` };
      stack.push(child);
    }
  }
  return undefined;
}
