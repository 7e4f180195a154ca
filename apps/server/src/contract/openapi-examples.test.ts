import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openApiDocument } from '../ops/openapi';
import { exampleFromDescription } from './openapi-builder';

type Response = {
  description: string;
  content?: Record<string, { schema?: { $ref?: string }; example?: unknown }>;
};

describe('every error a route declares comes with an example answer', () => {
  test('each error answer in the Error shape has an example whose code its description names', () => {
    const document = openApiDocument() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
    };
    const missing: string[] = [];
    let checked = 0;
    for (const [path, item] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(item))
        for (const [status, response] of Object.entries(operation.responses)) {
          const json = response.content?.['application/json'];
          if (Number(status) < 400 || json?.schema?.$ref !== '#/components/schemas/Error') continue;
          checked++;
          const example = json.example as { error?: { code?: string; details?: unknown } } | undefined;
          const code = example?.error?.code;
          if (!code || !Array.isArray(example?.error?.details)) missing.push(`${method} ${path} ${status}`);
          else if (!response.description.includes(`\`${code}\``))
            missing.push(
              `${method} ${path} ${status}: example code ${code} not in "${response.description}"`,
            );
        }
    assert.ok(checked > 200, `found the error answers (${checked})`);
    assert.deepEqual(missing, []);
  });

  test("a route's own error: the code it starts with, and the words after it as the message", () => {
    assert.deepEqual(exampleFromDescription('`already_canceled`, or `already_sent`: nothing left to send'), {
      error: { code: 'already_canceled', message: 'already canceled', details: [] },
    });
    assert.deepEqual(
      exampleFromDescription('`unavailable`: Redis unreachable, nothing was changed; or not'),
      {
        error: { code: 'unavailable', message: 'Redis unreachable, nothing was changed', details: [] },
      },
    );
    assert.deepEqual(exampleFromDescription('`bad_signature` or `callback_not_configured`'), {
      error: { code: 'bad_signature', message: 'bad signature', details: [] },
    });
    assert.equal(exampleFromDescription('Not ready: `error` names what is down'), undefined);
  });
});
