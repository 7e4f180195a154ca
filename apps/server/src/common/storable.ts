/**
 * Why PostgreSQL's text and jsonb could not store `text`, or undefined: both refuse U+0000 and
 * unpaired surrogates. The API refuses such input (common/text-guard.ts); provider text is mended.
 */
export function unstorableReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'may not contain the NUL character (U+0000)';
  if (!text.isWellFormed()) return 'must be well-formed Unicode (it holds an unpaired surrogate)';
  return undefined;
}

/**
 * Text from a provider as PostgreSQL can store it: text and jsonb refuse U+0000 and unpaired
 * surrogates, which an error message or id from a provider may carry. Each becomes U+FFFD (the
 * replacement character), so the outcome is recorded rather than failing its whole batch.
 */
export function storable<T extends string | null | undefined>(text: T): T {
  if (typeof text !== 'string') return text;
  return (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text).toWellFormed() as T;
}

/** JSON for a jsonb column, with every string made storable. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? storable(v) : v));
}
