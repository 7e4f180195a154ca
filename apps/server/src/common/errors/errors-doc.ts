import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ERROR_CATALOG, type ErrorEntry } from './error-catalog';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

export const ERRORS_DOC = join(repoRoot(), 'docs', 'errors.md');

const statuses = (e: ErrorEntry) => [e.status, ...(e.otherStatuses ?? [])].join(', ');
const cell = (text: string) => text.replaceAll('|', '\\|');

/** docs/errors.md as the catalog says it: one row per code, in the catalog's order (by status). */
export function errorsDocText(): string {
  const rows = Object.entries(ERROR_CATALOG as Record<string, ErrorEntry>).map(
    ([code, e]) => `| \`${code}\` | ${statuses(e)} | ${e.retryable ? 'yes' : 'no'} | ${cell(e.meaning)} |`,
  );
  return [
    '# Error codes',
    '',
    '<!-- Generated from apps/server/src/common/errors/error-catalog.ts by',
    '     `pnpm --filter @clarion/server errors:write`; error-catalog.test.ts fails while they differ. -->',
    '',
    'Every error the API answers has the same body, `details` always present (an empty list when',
    'there is nothing to add):',
    '',
    '```json',
    '{ "error": { "code": "unknown_template", "message": "template \\"welcome\\" does not exist", "details": { "template": "welcome" } } }',
    '```',
    '',
    'Clients should branch on `code`, not on the message. *Retryable* means the same request, repeated',
    'later unchanged, can succeed (honour `Retry-After` when it is sent; repeat writes with the same',
    '`Idempotency-Key`). Items of `POST /v1/notifications/batch` carry the same codes per item.',
    '',
    '| code | HTTP status | retryable | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export function readErrorsDoc(): string {
  return readFileSync(ERRORS_DOC, 'utf8');
}

export function writeErrorsDoc(path = ERRORS_DOC): void {
  writeFileSync(path, errorsDocText());
}
