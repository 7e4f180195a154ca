import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ApiError } from '../api-error';
import { ConflictError, NotFoundError } from './domain-error';
import { domainErrorAnswer } from './error-answer';
import { ERROR_CATALOG, type ErrorEntry, isErrorCode } from './error-catalog';
import { ERRORS_DOC, errorsDocText, readErrorsDoc } from './errors-doc';
import { RenderError, TemplateError } from './template-errors';

/** apps/server/src, from dist/common/errors. */
const SRC = join(__dirname, '..', '..', '..', 'src');

/** Text of another package (the plugin scaffold writes a plugin's source): its codes are not the API's. */
const NOT_THE_API = new Set(['plugin-scaffold']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() && NOT_THE_API.has(e.name)
      ? []
      : e.isDirectory()
        ? sourceFiles(join(dir, e.name))
        : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
          ? [join(dir, e.name)]
          : [],
  );
}

/** Every place src writes an error code: [code, status or undefined, file]. */
function codesInSource(): { code: string; status?: number; file: string }[] {
  const found: { code: string; status?: number; file: string }[] = [];
  const patterns: RegExp[] = [
    /new ApiError\(\s*(?<status>\d{3})\s*,\s*'(?<code>[a-z_]+)'/g, // an explicit status
    // Domain errors whose first argument is the code (NotFoundError and InvalidInputError fix theirs).
    /new (?:TemplateError|RenderError|ConflictError|RefusedError)\(\s*'(?<code>[a-z_]+)'/g,
    /super\(\s*'(?<code>[a-z_]+)'/g,
    /errorBody\(\s*'(?<code>[a-z_]+)'/g,
    /refuse\(\s*(?<status>\d{3})\s*,\s*'(?<code>[a-z_]+)'/g,
    /\[(?<status>\d{3}), '(?<code>[a-z_]+)'/g, // [status, code, message] tuples
    /^\s*(?<status>\d{3}): '(?<code>[a-z_]+)',$/gm, // a status → code table
    /\bcode: '(?<code>[a-z_]+)'/g, // hand-written error bodies
  ];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns)
      for (const m of text.matchAll(pattern)) {
        const { code, status } = m.groups!;
        if (code === 'custom') continue; // zod's issue kind, not an API error code
        found.push({
          code: code!,
          status: status ? Number(status) : undefined,
          file: file.slice(SRC.length + 1),
        });
      }
  }
  return found;
}

const statusesOf = (e: ErrorEntry) => [e.status, ...(e.otherStatuses ?? [])];

describe('the error catalog', () => {
  const used = codesInSource();

  test('every error code used in src is in the catalog', () => {
    assert.ok(used.length >= 40, `found ${used.length} places that write a code`);
    const unknown = used.filter((u) => !isErrorCode(u.code)).map((u) => `${u.code} (${u.file})`);
    assert.deepEqual(unknown, []);
  });

  test('each explicit status is one the catalog gives its code', () => {
    const wrong = used
      .filter((u) => u.status !== undefined && isErrorCode(u.code))
      .filter((u) => !statusesOf(ERROR_CATALOG[u.code as keyof typeof ERROR_CATALOG]).includes(u.status!))
      .map((u) => `${u.status} ${u.code} (${u.file})`);
    assert.deepEqual(wrong, []);
  });

  test('every catalog code is answered somewhere (no dead entries)', () => {
    const seen = new Set(used.map((u) => u.code));
    assert.deepEqual(
      Object.keys(ERROR_CATALOG).filter((c) => !seen.has(c)),
      [],
    );
  });

  test('the committed docs/errors.md is what the catalog generates', () => {
    assert.equal(
      readErrorsDoc(),
      errorsDocText(),
      `${ERRORS_DOC} is out of date: run \`pnpm --filter @clarion/server build && pnpm --filter @clarion/server errors:write\``,
    );
    for (const code of Object.keys(ERROR_CATALOG))
      assert.match(readErrorsDoc(), new RegExp(`\\| \`${code}\` \\|`));
  });
});

describe('domain errors', () => {
  test('carry no HTTP status; the edge takes it from the catalog', () => {
    const render = new RenderError('template_error', 'content.sms.text: undefined variable: user.plan', {
      field: 'content.sms.text',
    });
    assert.ok(render instanceof TemplateError);
    assert.ok(!(render instanceof ApiError));
    assert.equal('getStatus' in render, false);
    assert.deepEqual(domainErrorAnswer(render), {
      status: 422,
      body: {
        error: {
          code: 'template_error',
          message: 'content.sms.text: undefined variable: user.plan',
          details: { field: 'content.sms.text' },
        },
      },
    });
    assert.equal(domainErrorAnswer(new NotFoundError('template')).status, 404);
    assert.deepEqual(domainErrorAnswer(new NotFoundError('template')).body.error.details, []);
    assert.equal(domainErrorAnswer(new ConflictError('already_canceled', 'already canceled')).status, 409);
    assert.equal(
      domainErrorAnswer(new TemplateError('unknown_template', 'template "x" does not exist')).status,
      422,
    );
  });

  test('an error’s name is its class, for logs', () => {
    assert.equal(new RenderError('content_too_large', 'too large').name, 'RenderError');
  });
});
