/**
 * Rows of a query. TypeORM's PostgreSQL driver answers UPDATE/DELETE … RETURNING with
 * `[rows, affectedCount]` instead of the rows; this evens that out.
 */
export async function rows<T>(
  db: { query(sql: string, params?: unknown[]): Promise<unknown> },
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result = await db.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
