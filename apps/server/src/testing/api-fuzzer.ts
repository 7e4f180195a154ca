/**
 * Hostile requests for every operation of the server's OpenAPI document, drawn from a seeded PRNG
 * so a seed names the same cases on every run. Bodies start from a valid-looking seed (a fixture
 * per operation, else an example built from the operation's JSON schema) and are then mutated:
 * wrong types, huge or deep values, unknown fields, bad encodings, hostile path and query values,
 * missing, wrong, forged or other-tenant credentials.
 */

/** mulberry32: small, fast and good enough to pick cases; the same seed gives the same sequence. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export interface Operation {
  method: string;
  /** OpenAPI path template: `/v1/users/{userId}`. */
  path: string;
  /** Whether the document names a request body, and its JSON schema (refs resolved). */
  bodySchema?: JsonSchema;
  bodyType?: string;
  queryParams: { name: string; schema: JsonSchema }[];
  security: 'appKey' | 'admin' | 'none';
  /** A media type other than JSON the document gives for an error answer (a page for people, not an API error). */
  errorPage?: string;
}

export type JsonSchema = Record<string, unknown>;

type OpenApiDoc = {
  components?: { schemas?: Record<string, JsonSchema> };
  security?: Record<string, unknown>[];
  paths: Record<string, Record<string, OperationObject>>;
};
type OperationObject = {
  security?: Record<string, unknown>[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
  parameters?: { name: string; in: string; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'];

/** Every operation the document lists. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  const resolve = (s: JsonSchema | undefined): JsonSchema | undefined => {
    const ref = s?.$ref;
    if (typeof ref === 'string') return doc.components?.schemas?.[ref.split('/').pop()!];
    return s;
  };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = op.security ?? doc.security ?? [];
      const scheme =
        security.length === 0 ? 'none' : Object.keys(security[0] ?? {})[0] === 'admin' ? 'admin' : 'appKey';
      const [bodyType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      const errorPage = Object.entries(op.responses ?? {})
        .filter(([status]) => status.startsWith('4'))
        .flatMap(([, r]) => Object.keys(r.content ?? {}))
        .find((type) => type !== 'application/json');
      out.push({
        ...(errorPage ? { errorPage } : {}),
        method: method.toUpperCase(),
        path,
        ...(bodyType ? { bodyType, bodySchema: resolve(media?.schema) ?? {} } : {}),
        queryParams: (op.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        security: scheme,
      });
    }
  }
  return out;
}

/** A small value the schema accepts, where that is easy to see (formats, enums, required properties). */
export function exampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 6) return undefined;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (union?.length) return exampleOf(union.find((s) => s.type !== 'null') ?? union[0], depth + 1);
  if (Array.isArray(schema.allOf) && schema.allOf.length)
    return exampleOf(schema.allOf[0] as JsonSchema, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const obj: Record<string, unknown> = {};
      for (const key of required) obj[key] = exampleOf(props[key], depth + 1);
      return obj;
    }
    case 'array': {
      const min = Number(schema.minItems ?? 0);
      return Array.from({ length: Math.max(min, 1) }, () => exampleOf(schema.items as JsonSchema, depth + 1));
    }
    case 'integer':
    case 'number':
      return Number(schema.minimum ?? 1);
    case 'boolean':
      return true;
    case 'string':
      switch (schema.format) {
        case 'uri':
          return 'https://example.com/fuzz';
        case 'email':
          return 'fuzz@example.com';
        case 'uuid':
          return '01a21191-3f78-7196-87d2-22dc5a9d8763';
        case 'date-time':
          return '2030-01-01T00:00:00Z';
        default:
          return 'fuzz';
      }
    default:
      return {};
  }
}

/** Values of the wrong type, size, depth or content for any field. */
export function hostileValue(rng: Prng): unknown {
  switch (rng.int(22)) {
    case 0:
      return null;
    case 1:
      return -1;
    case 2:
      return 1e308;
    case 3:
      return 2 ** 53 + 1;
    case 4:
      return true;
    case 5:
      return '';
    case 6:
      return 'x'.repeat(rng.pick([300, 5_000, 200_000]));
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return nested(rng.pick([40, 200, 2_000, 8_000, 20_000]), rng.chance(0.5) ? 'array' : 'object');
    case 10:
      return 'a\u0000b';
    case 11:
      return 'a\ud800b';
    case 12:
      return '../../etc/passwd';
    case 13:
      return '<script>alert(1)</script>';
    case 14:
      return "'; DROP TABLE users; --";
    case 15:
      return 'ʻokina 🚀 \u202e RTL \u200b';
    case 16:
      return Array.from({ length: rng.pick([100, 20_000]) }, (_, i) => i);
    case 17:
      return Object.fromEntries(Array.from({ length: rng.pick([100, 5_000]) }, (_, i) => [`k${i}`, i]));
    case 18:
      // Own properties named __proto__ and constructor, as JSON.parse makes them from a request body.
      return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    case 19:
      return 'line\r\nInjected: header';
    case 20:
      return '{{ user.attributes | size }}{% raw %}';
    default:
      return 'http://127.0.0.1:1/';
  }
}

/**
 * Deep nesting stands in the value as a marker string until `toJson` writes it out: JSON.stringify
 * in this process would overflow its own stack on a few thousand levels.
 */
function nested(depth: number, kind: 'array' | 'object'): string {
  return `__fuzz_deep_${kind}_${depth}__`;
}

/** JSON text of a fuzzed value, with deep-nesting markers written out as nested arrays or objects. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/"__fuzz_deep_(array|object)_(\d+)__"/g, (_m, kind: string, n: string) => {
    const depth = Number(n);
    return kind === 'array'
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  });
}

/** Paths into a JSON value: each a list of keys/indexes to a node (the root excluded). */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (out.length > 200) return out;
  if (Array.isArray(value)) {
    value.slice(0, 5).forEach((v, i) => {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  }
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

/** One to three changes to a JSON body: a field's value, a new unknown field, a field removed, or the whole body. */
export function mutateBody(rng: Prng, body: unknown): unknown {
  let out = body;
  const rounds = 1 + rng.int(3);
  for (let i = 0; i < rounds; i++) {
    const paths = pathsOf(out);
    const roll = rng.int(10);
    if (roll < 5 && paths.length) out = setAt(out, rng.pick(paths), hostileValue(rng));
    else if (roll < 7 && out && typeof out === 'object' && !Array.isArray(out))
      out = {
        ...(out as object),
        [rng.pick(['zzz', 'isAdmin', 'appId', '__proto__', ''])]: hostileValue(rng),
      };
    else if (roll < 9 && paths.length) out = setAt(out, rng.pick(paths), undefined, true);
    else out = hostileValue(rng);
  }
  return out;
}

/** A path parameter that is long, badly encoded, traversing or otherwise not what the route expects. */
export function hostileSegment(rng: Prng): string {
  return rng.pick([
    'a'.repeat(rng.pick([257, 1_000, 1_025])),
    '%00',
    'a%00b',
    '%E0%A4%A',
    '%ED%A0%80',
    '..%2F..%2Fadmin',
    '%2e%2e',
    encodeURIComponent('ʻokina🚀'),
    '%20',
    '-1',
    '0',
    '99999999999999999999',
    '01a21191-3f78-7196-87d2-22dc5a9d876Z',
    '00000000-0000-0000-0000-000000000000',
    encodeURIComponent("' OR 1=1 --"),
    '%7B%7B7*7%7D%7D',
    'null',
  ]);
}

/** Junk for the query string: unknown keys, repeated keys, wrong types, bad encodings. */
export function hostileQuery(rng: Prng, op: Operation): string {
  const parts: string[] = [];
  const rounds = 1 + rng.int(3);
  for (let i = 0; i < rounds; i++) {
    const name =
      op.queryParams.length && rng.chance(0.7)
        ? rng.pick(op.queryParams).name
        : rng.pick(['zzz', '__proto__', 'appId', '']);
    const value = rng.pick([
      '-1',
      '0',
      '1e9',
      'abc',
      '%00',
      '%E0%A4%A',
      'x'.repeat(3000),
      '2030-13-45T99:99:99Z',
      '[]',
      encodeURIComponent('{"a":1}'),
      '',
    ]);
    parts.push(`${name}=${value}`);
    if (rng.chance(0.2)) parts.push(`${name}=${value}`); // repeated: an array where a string is expected
  }
  return parts.join('&');
}

/**
 * `METHOD /path/{param}` for every route in Fastify's `printRoutes({commonPrefix: false})` tree
 * (HEAD, added for every GET, left out): to check the document lists every route the server has.
 */
export function routesOf(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const at = line.search(/[├└]── /);
    if (at < 0) continue;
    const depth = at / 4;
    const match = /^(\S*) \(([^)]*)\)$/.exec(line.slice(at + 4).trim());
    const segment = match ? match[1]! : line.slice(at + 4).trim();
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + segment;
    stack[depth] = path;
    if (!match) continue;
    for (const method of match[2]!.split(',').map((m) => m.trim())) {
      if (method !== 'HEAD') out.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return out;
}
