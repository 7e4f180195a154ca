import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';

/** apps/server/src, from dist/ops (compiled) or src/ops. */
const SRC = join(__dirname, '..', '..', 'src');

/** A statement, not a word: `SELECT x`, `INSERT INTO`, `UPDATE t SET`, `DELETE FROM`, `WITH x AS (`. */
const SQL =
  /\b(SELECT\s+(DISTINCT\s+)?[\w*"(.$]|INSERT\s+INTO\b|UPDATE\s+\w+(\s+\w+)?\s+SET\b|DELETE\s+FROM\b|WITH\s+\w+\s+AS\s+(MATERIALIZED\s+)?\()/;

/** Where SQL belongs: repositories, read-only query files, the delivery store and relay, the database layer, test support. */
const ALLOWED_NAME = /(-repository|-queries)\.ts$/;
const ALLOWED_FOLDER = /^(deliveries|relay|database|testing)\//;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const allowed = (file: string) => ALLOWED_NAME.test(file) || ALLOWED_FOLDER.test(file);

describe('SQL lives only in repositories', () => {
  test('the detector tells statements from prose', () => {
    for (const sql of [
      'SELECT id FROM apps',
      'SELECT DISTINCT lower(o)',
      'SELECT * FROM t',
      'INSERT INTO users (id)',
      'UPDATE apps SET settings = $2',
      'UPDATE deliveries d SET status = v.status',
      'DELETE FROM contacts c USING users u',
      'WITH d AS (DELETE',
    ])
      assert.match(sql, SQL, sql);
    for (const prose of [
      'how many rows per DELETE.',
      'Every POST, PUT, PATCH and DELETE takes',
      'on DELETE) is "no body"',
      "const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);",
    ])
      assert.doesNotMatch(prose, SQL, prose);
  });

  test('no controller, service or other file outside repositories, deliveries/, relay/ and database/ holds SQL', () => {
    const files = sourceFiles(SRC).map((f) => relative(SRC, f).split('\\').join('/'));
    assert.ok(files.length > 100, `found the sources (${files.length} files under ${SRC})`);
    const offenders = files.filter((f) => !allowed(f) && SQL.test(readFileSync(join(SRC, f), 'utf8')));
    assert.deepEqual(
      offenders,
      [],
      'move these statements into a *-repository.ts (or *-queries.ts for reads)',
    );
  });
});
