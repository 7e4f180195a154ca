import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from './openapi';

/** The committed copy of the document that @clarion/client generates its types from. */
export const OPENAPI_FILE = join(__dirname, '..', '..', '..', '..', 'libs', 'client', 'openapi.json');

/** The document as written to the file: stable key order, two-space indent, trailing newline. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

export function readOpenApiFile(path = OPENAPI_FILE): string {
  return readFileSync(path, 'utf8');
}

export function writeOpenApiFile(path = OPENAPI_FILE): void {
  writeFileSync(path, openApiText());
}
