import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { openApiDocument } from './openapi';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

/** The README and the API guide: the documents an integrating team reads. */
function docs(): { name: string; text: string }[] {
  return ['README.md', 'docs/api.md']
    .filter((f) => existsSync(join(repoRoot(), f)))
    .map((f) => ({ name: f, text: readFileSync(join(repoRoot(), f), 'utf8') }));
}

type Paths = Record<
  string,
  Record<
    string,
    { responses: Record<string, { description?: string; content?: Record<string, { example?: unknown }> }> }
  >
>;

/** `POST /v1/users/:userId/devices`, `GET /v1/templates/order-shipped`… (not ones shortened with `…`). */
function namedRoutes(text: string): { method: string; path: string }[] {
  const found = text.matchAll(
    /\b(GET|PUT|POST|PATCH|DELETE|HEAD) (\/(?:v1|admin|t)\/[A-Za-z0-9_/:{}.-]*|\/(?:healthz|readyz|metrics)\b)/g,
  );
  return [...found].map((m) => ({ method: m[1]!, path: m[2]!.replace(/\/$/, '') }));
}

/** Does a README path (`/v1/users/:userId`, `/v1/users/alice`) name this document path (`/v1/users/{userId}`)? */
function names(readmePath: string, documentPath: string): boolean {
  const a = readmePath.split('/');
  const b = documentPath.split('/');
  return a.length === b.length && a.every((s, i) => s === b[i] || b[i]!.startsWith('{'));
}

/** (status, code) pairs the document declares: in a response's description or example, or the Error schema. */
function documentedCodes(paths: Paths, errorCodeDescription: string): Set<string> {
  const pairs = new Set<string>();
  for (const m of errorCodeDescription.matchAll(/`([a-z_]+)` \((\d{3})\)/g)) pairs.add(`${m[2]} ${m[1]}`);
  for (const item of Object.values(paths))
    for (const operation of Object.values(item))
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const m of (response.description ?? '').matchAll(/`([a-z][a-z0-9_]*)`/g))
          pairs.add(`${status} ${m[1]}`);
        const example = response.content?.['application/json']?.example as
          | { error?: { code?: string } }
          | undefined;
        if (example?.error?.code) pairs.add(`${status} ${example.error.code}`);
      }
  return pairs;
}

describe('the README agrees with the OpenAPI document', () => {
  const document = openApiDocument() as unknown as {
    paths: Paths;
    components: {
      schemas: { Error: { properties: { error: { properties: { code: { description: string } } } } } };
    };
  };

  test('every route the README names is in the document, with that method', () => {
    let checked = 0;
    const missing: string[] = [];
    for (const { name, text } of docs())
      for (const { method, path } of namedRoutes(text)) {
        checked++;
        const found = Object.entries(document.paths).some(
          ([documentPath, item]) => names(path, documentPath) && method.toLowerCase() in item,
        );
        if (!found) missing.push(`${name}: ${method} ${path}`);
      }
    assert.ok(checked >= 40, `found the README's routes (${checked})`);
    assert.deepEqual(
      missing,
      [],
      `named in the docs but not in the OpenAPI document:\n${missing.join('\n')}`,
    );
  });

  test('every error code the README names with its status is in the document with that status', () => {
    const documented = documentedCodes(
      document.paths,
      document.components.schemas.Error.properties.error.properties.code.description,
    );
    const named = new Set<string>();
    for (const { text } of docs())
      for (const m of text.matchAll(/\b([45]\d\d) `?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`/g))
        named.add(`${m[1]} ${m[2]}`);
    assert.ok(named.size >= 15, `found the README's error codes: ${[...named].join(', ')}`);
    const missing = [...named].filter((pair) => !documented.has(pair));
    assert.deepEqual(
      missing,
      [],
      `error codes the README names that the document does not: ${missing.join(', ')}`,
    );
  });
});
