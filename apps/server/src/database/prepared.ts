import { createHash } from 'node:crypto';
import type { QueryResult, QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { fastArrayParams } from './array-literal';

/** What the hot paths are handed: TypeORM's DataSource, or the EntityManager of a transaction. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

interface PgQueryable {
  query<R extends QueryResultRow>(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<QueryResult<R>>;
}

/** DataSources whose hot statements run as plain parameterised queries (no named statements). */
const unnamed = new WeakSet<object>();

/**
 * Turns named prepared statements on or off for one DataSource (and the transactions it opens).
 * Off behind PgBouncer in transaction mode: a named statement lives on one server connection, and
 * the pooler hands the next statement of the same client to another one ("prepared statement
 * does not exist", or "already exists" when two clients meet on one server connection).
 */
export function useNamedStatements(dataSource: object, on: boolean): void {
  if (on) unnamed.delete(dataSource);
  else unnamed.add(dataSource);
}

/**
 * The pg pool of a DataSource (PostgresDriver's public `master`), or the pg client a transaction's
 * EntityManager holds (its QueryRunner's `connect()`, which hands back the connection it already
 * has). Undefined for anything else, or where named statements are off.
 */
async function pgOf(q: Queryable): Promise<PgQueryable | undefined> {
  if (q instanceof DataSource) {
    if (unnamed.has(q) || !(q.driver instanceof PostgresDriver)) return undefined;
    return q.driver.master as PgQueryable;
  }
  if (q instanceof EntityManager) {
    if (unnamed.has(q.dataSource) || !(q.dataSource.driver instanceof PostgresDriver)) return undefined;
    if (!q.queryRunner) return q.dataSource.driver.master as PgQueryable;
    return (await q.queryRunner.connect()) as PgQueryable;
  }
  return undefined;
}

const names = new Map<string, string>();
function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `clarion_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs a hot statement as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of on every call (for the large unnest/CTE writes of the delivery path,
 * parse and plan were about a third of the database's time). The name is derived from the text,
 * so one text is one statement. A plain query on anything that is not TypeORM over pg, and where
 * named statements are off (useNamedStatements). Arrays of strings go as text literals made by
 * fastArrayParam (the same text node-postgres would send, made with less garbage).
 */
export async function preparedQuery<R extends QueryResultRow>(
  q: Queryable,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const pg = await pgOf(q);
  // node-postgres receives them (directly, or through TypeORM); anything else gets them as given.
  const params = q instanceof DataSource || q instanceof EntityManager ? fastArrayParams(values) : values;
  if (!pg) return (await q.query(text, params)) as R[];
  try {
    return (await pg.query<R>({ name: nameOf(text), text, values: params })).rows;
  } catch (error) {
    throw withPoolerHint(error);
  }
}

/** "does not exist" / "already exists" for our own statement names: a pooler moved the session. */
const STATEMENT_MOVED = new Set(['26000', '42P05']);

function withPoolerHint(error: unknown): unknown {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && STATEMENT_MOVED.has(e.code) && typeof e.message === 'string') {
    e.message +=
      ' (is the database behind PgBouncer in transaction mode? set CLARION_DATABASE_PREPARED_STATEMENTS=false)';
  }
  return error;
}
