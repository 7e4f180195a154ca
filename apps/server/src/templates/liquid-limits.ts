import { TemplateError } from '../common/errors/template-errors';

/** Bounds on Liquid work, so one request cannot hold the event loop or the heap for the others. */
export const LIQUID_LIMITS = {
  /** Tags (`{{ … }}`, `{% … %}`) in one string: parsing is quadratic in them. */
  tagsPerString: 2_000,
  /** Tags in one request's content, or in one template with all its locale variants. */
  tagsPerContent: 10_000,
  /** Characters one string may render to (the largest field, an e-mail body, allows 1 MB). */
  renderedChars: 1_000_000,
  /** Weight of the parse cache for inline content (about 4 per source character). */
  inlineCacheWeight: 64 * 1024 * 1024,
} as const;

/** `{{` and `{%` in a string: the tags Liquid would parse, counted without parsing. */
export function countTags(source: string): number {
  let n = 0;
  for (let i = source.indexOf('{'); i !== -1 && i < source.length - 1; i = source.indexOf('{', i + 1)) {
    const next = source.charCodeAt(i + 1);
    if (next === 0x7b || next === 0x25) {
      n++;
      i++;
    }
  }
  return n;
}

export const tooManyTags = (field: string, tags: number) =>
  new TemplateError(
    'template_too_complex',
    `${field}: ${tags} Liquid tags, over the ${LIQUID_LIMITS.tagsPerString} one string may hold`,
    { field, tags, limit: LIQUID_LIMITS.tagsPerString },
  );

/**
 * The first string over the per-string tag limit, or the content over the total, as a zod issue
 * message with its path (relative to `value`). Content is walked iteratively; its depth is bounded
 * by validation anyway.
 */
export function tagProblem(value: unknown): { path: (string | number)[]; message: string } | undefined {
  let total = 0;
  // Each node points at its parent: the path is built only for the string reported.
  const stack: TagFrame[] = [{ value, key: '', parent: undefined }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const v = item.value;
    if (typeof v === 'string') {
      const tags = countTags(v);
      if (tags > LIQUID_LIMITS.tagsPerString)
        return {
          path: pathOf(item),
          message: `${tags} Liquid tags, over the ${LIQUID_LIMITS.tagsPerString} one string may hold`,
        };
      total += tags;
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        if (Object.hasOwn(v, k))
          stack.push({ value: (v as Record<string, unknown>)[k], key: k, parent: item });
      }
    }
  }
  if (total > LIQUID_LIMITS.tagsPerContent)
    return {
      path: [],
      message: `${total} Liquid tags in all, over the ${LIQUID_LIMITS.tagsPerContent} one request or template may hold`,
    };
  return undefined;
}

interface TagFrame {
  value: unknown;
  key: string;
  parent: TagFrame | undefined;
}

function pathOf(frame: TagFrame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: TagFrame | undefined = frame; f?.parent; f = f.parent) path.push(f.key);
  return path.reverse();
}
