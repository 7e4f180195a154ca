/**
 * A list of JSON texts sent as one `jsonb` parameter and read back in SQL as a `jsonb[]`
 * (jsonbListSql). PostgreSQL's array input (`$1::jsonb[]`) unquotes every element's text, then
 * parses it: for a fan-out chunk of 160 newsletters (50 KB each) that took 286 ms, against 97 ms
 * for one JSON array, and 49 against 17 ms for 2,000 jobs of 450 bytes (docs/benchmarks.md,
 * session 8). A null entry is SQL NULL.
 */
export function jsonbListParam(texts: readonly (string | null)[]): string {
  return `[${texts.map((t) => t ?? 'null').join(',')}]`;
}

/** SQL for the `jsonb[]` a jsonbListParam parameter (`$n`) holds: its elements in order, JSON null as NULL. */
export function jsonbListSql(param: string): string {
  return `ARRAY(SELECT NULLIF(e, 'null'::jsonb) FROM jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS x(e, o) ORDER BY o)`;
}
