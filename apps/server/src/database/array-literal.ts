/**
 * Characters after which JSON's string quoting and PostgreSQL's array-element quoting part ways:
 * JSON writes a control character as `\n` or `\u0001` and a lone surrogate as `\ud800`, where an
 * array element would read `n` or `u0001`. Without them both quote `"` as `\"` and `\` as `\\`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NOT_LIKE_JSON = /[\u0000-\u001f\ud800-\udfff]/;

/**
 * A parameter as node-postgres sends it, made faster for arrays of strings: node-postgres writes
 * an array's text literal by copying every element twice through a regular expression, which for
 * the delivery path's rendered jobs (then a `jsonb[]` of a thousand JSON texts a fan-out chunk;
 * now one JSON array, jsonb-list.ts) was the worker's largest source of garbage. `JSON.stringify` quotes such a string in one native
 * pass, exactly as node-postgres would (see NOT_LIKE_JSON); any other string takes node-postgres'
 * own rule. An array holding anything but strings, null and undefined (numbers, dates, buffers,
 * nested arrays) is returned as it is, for node-postgres to write.
 */
export function fastArrayParam(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  for (const element of value) if (element != null && typeof element !== 'string') return value;
  let literal = '{';
  for (let i = 0; i < value.length; i++) {
    const element = value[i] as string | null | undefined;
    if (i > 0) literal += ',';
    if (element == null) literal += 'NULL';
    else if (NOT_LIKE_JSON.test(element))
      literal += `"${element.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    else literal += JSON.stringify(element);
  }
  return `${literal}}`;
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
