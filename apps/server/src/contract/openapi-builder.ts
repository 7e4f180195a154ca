import { z } from 'zod';
import { type Answer, contractSchemas, namedSchemas, type RouteContract } from './route-contract';

type Json = Record<string, unknown>;
type Side = 'input' | 'output';

const REF = '#/components/schemas/';
/** Ids given to unnamed route schemas for one conversion; they are inlined, never components. */
const INLINE = '__inline_';

const errorJson = { 'application/json': { schema: { $ref: `${REF}Error` } } };
const errorExample = (status: number, code: string, message: string, details: unknown = []) => ({
  description: '',
  status,
  example: { error: { code, message, details } },
});
const USUAL_ERRORS = {
  400: errorExample(
    400,
    'invalid_request',
    'invalid body: body.to: Invalid input: expected object, received undefined',
    [{ path: 'body.to', message: 'Invalid input: expected object, received undefined' }],
  ),
  401: errorExample(401, 'unauthorized', 'a valid appKey and appSecret are required'),
  403: errorExample(403, 'forbidden', 'client keys may not do this'),
  404: errorExample(404, 'not_found', 'user not found'),
  413: errorExample(413, 'payload_too_large', 'Request body is too large'),
  414: errorExample(414, 'uri_too_long', 'a path segment is longer than 1,024 characters'),
  415: errorExample(415, 'unsupported_media_type', 'Unsupported Media Type: text/plain'),
  429: errorExample(429, 'rate_limited', 'over this key’s API quota; retry after 1 s'),
  500: errorExample(500, 'internal', 'internal error'),
  503: errorExample(
    503,
    'unavailable',
    'the database is unavailable right now; nothing was stored, retry later',
  ),
} as const;
const USUAL_DESCRIPTIONS: Record<keyof typeof USUAL_ERRORS, string> = {
  400: '`invalid_request`: invalid input (bad JSON, a field out of range, a NUL or unpaired surrogate anywhere in the request): `details` lists each problem by path; nothing changed',
  401: '`unauthorized`: missing or wrong credentials',
  403: '`forbidden`: not allowed for this key (a client key on a server-key route, another user)',
  404: '`not_found`: no such resource for this app',
  413: '`payload_too_large`: a body over 5 MB',
  414: '`uri_too_long`: a path segment over 1,024 characters',
  415: '`unsupported_media_type`: a body in a type the route does not take',
  429: '`rate_limited`: over this key’s API quota: see Retry-After. Every /v1 answer carries RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy',
  500: '`internal`: an unexpected error, logged with the request id; the answer carries no internals',
  503: '`unavailable`: the database (or, where a route needs it, Redis) is unreachable: nothing was stored, retry (see Retry-After)',
};

/**
 * A route's own error, as an example answer: its description starts with the code it answers
 * (`` `already_canceled`: nothing left to send; … ``), and the words after the code say why.
 */
export function exampleFromDescription(description: string): Json | undefined {
  const match = /^`([a-z_]+)`(?::\s*([^;(`]+?)\s*(?:[;(]|$)|\s*(?:[,;(]|or\b|$))/.exec(description);
  if (!match) return undefined;
  const [, code, why] = match;
  return { error: { code, message: why?.trim() || code!.replaceAll('_', ' '), details: [] } };
}

/**
 * The error statuses a route can answer besides its own, from what it takes. Every request may be
 * a 400 (text PostgreSQL cannot store, anywhere in it, is refused before any route); any body on
 * a write may be too large or not JSON; a path parameter may be over the router's length limit.
 */
function usualErrors(route: RouteContract): (keyof typeof USUAL_ERRORS)[] {
  if (route.usualErrors) return [400, 500, ...route.usualErrors] as (keyof typeof USUAL_ERRORS)[];
  const statuses: (keyof typeof USUAL_ERRORS)[] = [400, 500];
  if (route.auth !== 'none') statuses.push(401, 403);
  if (route.path.includes('{')) statuses.push(404, 414);
  if (route.method !== 'get' && route.method !== 'head') statuses.push(413, 415);
  if (route.path.startsWith('/v1/') && route.auth === 'app') statuses.push(429);
  if (route.path.startsWith('/v1/') || route.path.startsWith('/admin/')) statuses.push(503);
  return statuses;
}

/** Converts every route schema of one side in one pass, so named schemas become references. */
function convert(roots: Map<z.ZodType, string>, io: Side): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const schema of [...roots.keys(), ...namedSchemas]) {
    const id = contractSchemas.get(schema)?.id ?? roots.get(schema)!;
    if (!registry.has(schema)) registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `${REF}${id}`,
  });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
}

/** Replaces references to inline ids by the schema itself, everywhere in a value. */
function inlined(value: unknown, converted: Record<string, Json>): unknown {
  if (Array.isArray(value)) return value.map((v) => inlined(v, converted));
  if (typeof value !== 'object' || value === null) return value;
  const ref = (value as Json).$ref;
  if (typeof ref === 'string' && ref.startsWith(`${REF}${INLINE}`))
    return inlined(converted[ref.slice(REF.length)], converted);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inlined(v, converted)]));
}

function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (typeof value === 'object' && value !== null) {
    const ref = (value as Json).$ref;
    if (typeof ref === 'string' && ref.startsWith(REF)) found.add(ref.slice(REF.length));
    for (const v of Object.values(value)) refsIn(v, found);
  }
  return found;
}

export interface BuiltPaths {
  paths: Record<string, Record<string, Json>>;
  schemas: Record<string, Json>;
}

/** The `paths` and `components.schemas` of the OpenAPI document, from the route contracts. */
export function buildPaths(routes: RouteContract[]): BuiltPaths {
  const inputs = new Map<z.ZodType, string>();
  const outputs = new Map<z.ZodType, string>();
  const rootId = (roots: Map<z.ZodType, string>, schema: z.ZodType) => {
    if (!roots.has(schema)) roots.set(schema, contractSchemas.get(schema)?.id ?? `${INLINE}${roots.size}`);
    return roots.get(schema)!;
  };
  for (const route of routes) {
    for (const s of [route.body, route.query, route.params]) if (s) rootId(inputs, s);
    for (const answer of Object.values(route.answers)) if (answer.body) rootId(outputs, answer.body);
  }
  const input = convert(inputs, 'input');
  const output = convert(outputs, 'output');
  const use = (roots: Map<z.ZodType, string>, converted: Record<string, Json>, schema: z.ZodType) => {
    const id = roots.get(schema)!;
    return id.startsWith(INLINE) ? (inlined(converted[id], converted) as Json) : { $ref: `${REF}${id}` };
  };

  const paths: BuiltPaths['paths'] = {};
  for (const route of routes) {
    const parameters: Json[] = [];
    const pathSchema = route.params ? (inlined(input[inputs.get(route.params)!], input) as Json) : {};
    const pathProps = (pathSchema.properties ?? {}) as Record<string, Json>;
    for (const [, name] of route.path.matchAll(/\{([^}]+)\}/g))
      parameters.push({ name, in: 'path', required: true, schema: pathProps[name!] ?? { type: 'string' } });
    if (route.query) {
      const q = inlined(input[inputs.get(route.query)!], input) as Json;
      const required = new Set((q.required ?? []) as string[]);
      for (const [name, schema] of Object.entries((q.properties ?? {}) as Record<string, Json>)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: 'query',
          required: required.has(name),
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    const responses: Record<string, Json> = {};
    for (const [status, answer] of Object.entries(route.answers) as [string, Answer][]) {
      responses[status] = {
        description: answer.description,
        ...(answer.body
          ? {
              content: {
                'application/json': {
                  schema: use(outputs, output, answer.body),
                  ...(answer.example !== undefined ? { example: answer.example } : {}),
                },
              },
            }
          : answer.type
            ? {
                content: {
                  [answer.type]: {
                    schema: { type: 'string' },
                    ...(answer.example !== undefined ? { example: answer.example } : {}),
                  },
                },
              }
            : {}),
      };
    }
    for (const status of usualErrors(route)) {
      if (responses[status]) continue;
      responses[status] = {
        description: USUAL_DESCRIPTIONS[status],
        content: {
          'application/json': { ...errorJson['application/json'], example: USUAL_ERRORS[status].example },
        },
      };
    }
    for (const [status, description] of Object.entries(route.errors ?? {})) {
      const example = exampleFromDescription(description);
      responses[status] = {
        description,
        content: {
          'application/json': { ...errorJson['application/json'], ...(example ? { example } : {}) },
        },
      };
    }
    const types = route.bodyTypes ?? ['application/json'];
    const operation: Json = {
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: route.auth === 'app' ? [{ appKey: [] }] : route.auth === 'admin' ? [{ admin: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: route.bodyRequired ?? true,
              content: Object.fromEntries(
                types.map((type, i) => [
                  type,
                  {
                    schema:
                      i === 0 || type.includes('json') ? use(inputs, input, route.body!) : { type: 'object' },
                    ...(route.bodyExample !== undefined && type.includes('json')
                      ? { example: route.bodyExample }
                      : {}),
                  },
                ]),
              ),
            },
          }
        : {}),
      responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    };
    paths[route.path] ??= {};
    paths[route.path]![route.method] = operation;
  }

  // Named schemas: a request's from the input conversion (defaults optional), the rest as answered.
  const requestNamed = new Set<string>();
  const pending = [...inputs.values()].filter((id) => !id.startsWith(INLINE));
  for (const id of [...inputs.values()]) for (const r of refsIn(input[id], new Set())) pending.push(r);
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (requestNamed.has(id) || id.startsWith(INLINE)) continue;
    requestNamed.add(id);
    for (const r of refsIn(input[id], new Set())) pending.push(r);
  }
  const answerNamed = new Set<string>();
  const pendingOut = [...outputs.values()].flatMap((id) => [
    ...(id.startsWith(INLINE) ? [] : [id]),
    ...refsIn(output[id], new Set()),
  ]);
  while (pendingOut.length > 0) {
    const id = pendingOut.pop()!;
    if (answerNamed.has(id) || id.startsWith(INLINE)) continue;
    answerNamed.add(id);
    for (const r of refsIn(output[id], new Set())) pendingOut.push(r);
  }
  answerNamed.add('Error');
  const schemas: Record<string, Json> = {};
  for (const id of [...answerNamed].sort()) schemas[id] = inlined(output[id], output) as Json;
  for (const id of [...requestNamed].sort()) schemas[id] = inlined(input[id], input) as Json;
  return {
    paths,
    schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
  };
}
