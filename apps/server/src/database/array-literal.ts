/**
 * Characters after which JSON's string quoting and PostgreSQL's array-element quoting part ways:
 * JSON writes a control character as `\n` or `\u0001` and a lone surrogate as `\ud800`, where an
 * array element would read `n` or `u0001`. Without them both quote `"` as `\"` and `\` as `\\`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NOT_LIKE_JSON = /[\u0000-\u001f\ud800-\udfff]/;

/**
 * An element PostgreSQL reads the same without quotes: ids, enum-like words, numbers as text. No
 * space, comma, brace, quote or backslash, and not the word NULL (checked apart).
 */
const BARE = /^[0-9A-Za-z_.:@+=/-]+$/;

/** One element of an array literal: bare where PostgreSQL reads it so, else quoted (see NOT_LIKE_JSON). */
function arrayElement(element: string): string {
  if (BARE.test(element) && !(element.length === 4 && element.toUpperCase() === 'NULL')) return element;
  if (NOT_LIKE_JSON.test(element)) return `"${element.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return JSON.stringify(element);
}

/**
 * A parameter as node-postgres sends it, made faster for arrays of strings: node-postgres writes
 * an array's text literal by copying every element twice through a regular expression, which for
 * the delivery path's rendered jobs (then a `jsonb[]` of a thousand JSON texts a fan-out chunk;
 * now one JSON array, jsonb-list.ts) was the worker's largest source of garbage. Most elements are
 * ids and words that need no quotes and are used as they are; any other string is quoted by
 * `JSON.stringify` in one native pass, exactly as node-postgres would (see NOT_LIKE_JSON), or by
 * node-postgres' own rule. The literal is one `join`, not a string grown element by element (a
 * rope of thousands of pieces that node-postgres then flattens). An array holding anything but
 * strings, null and undefined (numbers, dates, buffers, nested arrays) is returned as it is, for
 * node-postgres to write.
 */
export function fastArrayParam(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  for (const element of value) if (element != null && typeof element !== 'string') return value;
  const parts = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element = value[i] as string | null | undefined;
    parts[i] = element == null ? 'NULL' : arrayElement(element);
  }
  return `{${parts.join(',')}}`;
}

/** Every parameter of a statement through fastArrayParam; the same array if none changed. */
export function fastArrayParams(values: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Array.isArray(v)) continue;
    out ??= values.slice();
    out[i] = fastArrayParam(v);
  }
  return out ?? values;
}
