import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openApiDocument, ROUTES } from '../ops/openapi';
import { documentValidator } from '../testing/contract-check';
import { exampleFromDescription } from './openapi-builder';

type Json = Record<string, unknown>;
type Media = { schema?: Json; example?: unknown };
type Response = { description: string; content?: Record<string, Media> };
type Operation = { responses: Record<string, Response>; requestBody?: { content: Record<string, Media> } };
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

const document = () => openApiDocument() as unknown as Document;

function* operations(doc: Document): Generator<[string, Operation]> {
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, operation] of Object.entries(item)) yield [`${method} ${path}`, operation];
}

/** A schema as written in the document, or the component its `$ref` names. */
function resolved(doc: Document, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref;
  return typeof ref === 'string' ? doc.components.schemas[ref.split('/').pop()!] : schema;
}

/**
 * Success answers that carry no example, each with the reason. 204s and HEADs have no body by
 * definition and are not listed; these are the others.
 */
const NO_EXAMPLE: Record<string, string> = {
  'get /t/{token} 302': 'a redirect: the Location header is the answer, the body is empty',
  'get /t/o/{token} 200': 'a 1×1 GIF: binary, which an example (a JSON value) cannot show',
};

describe('every error a route declares comes with an example answer', () => {
  test('each error answer in the Error shape has an example whose code its description names', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const [where, operation] of operations(document()))
      for (const [status, response] of Object.entries(operation.responses)) {
        const json = response.content?.['application/json'];
        if (Number(status) < 400 || json?.schema?.$ref !== '#/components/schemas/Error') continue;
        checked++;
        const example = json.example as { error?: { code?: string; details?: unknown } } | undefined;
        const code = example?.error?.code;
        if (!code || !Array.isArray(example?.error?.details)) missing.push(`${where} ${status}`);
        else if (!response.description.includes(`\`${code}\``))
          missing.push(`${where} ${status}: example code ${code} not in "${response.description}"`);
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

describe('every answer comes with an example', () => {
  test('each JSON answer (success or error) has one, on its media type or on its schema', () => {
    const doc = document();
    const missing: string[] = [];
    let checked = 0;
    for (const [where, operation] of operations(doc))
      for (const [status, response] of Object.entries(operation.responses)) {
        const json = response.content?.['application/json'];
        if (!json) continue;
        checked++;
        const schemaExamples = resolved(doc, json.schema)?.examples;
        const has =
          json.example !== undefined || (Array.isArray(schemaExamples) && schemaExamples.length > 0);
        if (!has) missing.push(`${where} ${status}`);
      }
    assert.ok(checked > 300, `found the JSON answers (${checked})`);
    assert.deepEqual(missing, []);
  });

  test('each JSON request body has one (provider callbacks take the provider’s own format)', () => {
    const doc = document();
    const missing: string[] = [];
    let checked = 0;
    for (const [where, operation] of operations(doc))
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        if (!type.includes('json') || where.includes(' /v1/callbacks/')) continue;
        checked++;
        const schemaExamples = resolved(doc, media.schema)?.examples;
        if (media.example === undefined && !(Array.isArray(schemaExamples) && schemaExamples.length > 0))
          missing.push(`${where} ${type}`);
      }
    assert.ok(checked > 15, `found the JSON request bodies (${checked})`);
    assert.deepEqual(missing, []);
  });

  test('each other success answer shows its media type’s body, or has none (204, HEAD, listed here)', () => {
    const missing: string[] = [];
    const listed = new Set<string>();
    for (const [where, operation] of operations(document()))
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 || response.content?.['application/json']) continue;
        const key = `${where} ${status}`;
        if (key in NO_EXAMPLE) {
          listed.add(key);
          continue;
        }
        if (status === '204' || where.startsWith('head ')) {
          if (response.content) missing.push(`${key}: declares a body it cannot have`);
          continue;
        }
        const media = Object.entries(response.content ?? {});
        if (media.length === 0) missing.push(`${key}: no content declared`);
        for (const [type, { example }] of media)
          if (typeof example !== 'string' || example.length === 0) missing.push(`${key} ${type}`);
      }
    assert.deepEqual(missing, []);
    assert.deepEqual([...listed].sort(), Object.keys(NO_EXAMPLE).sort(), 'a listed answer no longer exists');
  });
});

/** Every `examples` list in a schema, with the schema it illustrates, wherever it sits. */
function* schemaExamples(value: unknown, where: string): Generator<[string, Json, unknown]> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* schemaExamples(v, `${where}/${i}`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const { examples, ...schema } = value as Json;
  // A property named `examples` sits in a `properties` map as a schema, never as a list.
  if (Array.isArray(examples)) for (const [i, e] of examples.entries()) yield [`${where} #${i}`, schema, e];
  for (const [k, v] of Object.entries(value)) if (k !== 'examples') yield* schemaExamples(v, `${where}/${k}`);
}

describe('every example fits the schema it illustrates', () => {
  // The same validator the test harness checks real answers with (testing/contract-check.ts).
  const doc = document();
  const { compile } = documentValidator(doc.components.schemas as Json);
  const problem = (schema: Json, example: unknown): string | undefined => {
    const validate = compile(schema);
    if (validate(example)) return undefined;
    return (validate.errors ?? [])
      .slice(0, 3)
      .map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
      .join('; ');
  };

  test('each answer’s and request body’s example, against its media type’s schema', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [where, operation] of operations(doc)) {
      const media: [string, Media][] = [
        ...Object.entries(operation.responses).flatMap(([status, r]) =>
          Object.entries(r.content ?? {}).map(
            ([type, m]) => [`${where} ${status} ${type}`, m] as [string, Media],
          ),
        ),
        ...Object.entries(operation.requestBody?.content ?? {}).map(
          ([type, m]) => [`${where} request ${type}`, m] as [string, Media],
        ),
      ];
      for (const [at, { schema, example }] of media) {
        if (example === undefined || !schema) continue;
        checked++;
        const why = problem(schema, example);
        if (why) wrong.push(`${at}: ${why}`);
      }
    }
    assert.ok(checked > 200, `found the media examples (${checked})`);
    assert.deepEqual(wrong, []);
  });

  test('each example written on a schema (components, answers, request bodies, parameters), against that schema', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [at, schema, example] of schemaExamples(
      { components: doc.components.schemas, paths: doc.paths },
      '#',
    )) {
      checked++;
      const why = problem(schema, example);
      if (why) wrong.push(`${at}: ${why}`);
    }
    assert.ok(checked > 40, `found the schema examples (${checked})`);
    assert.deepEqual(wrong, []);
  });

  test('each request body example passes the zod schema the route validates with (refinements too)', () => {
    const refused: string[] = [];
    let checked = 0;
    for (const route of ROUTES) {
      if (!route.body) continue;
      const onSchema = (route.body.meta()?.examples ?? []) as unknown[];
      const examples = route.bodyExample === undefined ? onSchema : [route.bodyExample, ...onSchema];
      for (const example of examples) {
        checked++;
        const parsed = route.body.safeParse(example);
        if (!parsed.success)
          refused.push(
            `${route.method} ${route.path}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
          );
      }
    }
    assert.ok(checked > 15, `found the request examples (${checked})`);
    assert.deepEqual(refused, []);
  });
});
