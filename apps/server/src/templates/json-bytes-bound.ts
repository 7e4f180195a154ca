/** A JSON text's longest form of one UTF-16 code unit: `\u001f` (6 bytes); unescaped, at most 3 UTF-8 bytes. */
const BYTES_PER_UNIT = 6;
/** The longest JSON number (`-1.7976931348623157e+308`). */
const NUMBER_BYTES = 24;
const MAX_DEPTH = 64;

/**
 * An upper bound on the UTF-8 bytes of JSON.stringify(value), without serializing it: a
 * newsletter's 50 KB body is measured by its length, not copied and escaped again. Infinity where
 * it cannot tell (a value with its own toJSON, a bigint, nesting past 64 levels): the caller then
 * serializes.
 */
export function jsonBytesBound(value: unknown, depth = 0): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 5;
  if (typeof value === 'string') return 2 + BYTES_PER_UNIT * value.length;
  if (typeof value === 'number') return NUMBER_BYTES;
  if (typeof value !== 'object' || depth > MAX_DEPTH) return Number.POSITIVE_INFINITY;
  if (Array.isArray(value))
    return value.reduce<number>((n, item) => n + 1 + jsonBytesBound(item, depth + 1), 2);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return Number.POSITIVE_INFINITY; // a Date, a class: its toJSON decides
  let n = 2;
  for (const [key, item] of Object.entries(value))
    n += jsonBytesBound(key) + 2 + jsonBytesBound(item, depth + 1);
  return n;
}
