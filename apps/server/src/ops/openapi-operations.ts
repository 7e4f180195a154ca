type Operation = {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: unknown[];
  responses?: Record<string, unknown>;
} & Record<string, unknown>;
type PathItem = Record<string, Operation>;
type Document = {
  paths: Record<string, PathItem>;
  tags?: { name: string; description: string }[];
  components?: { parameters?: Record<string, unknown> } & Record<string, unknown>;
};

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
const WRITES = new Set(['put', 'post', 'delete', 'patch']);

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Any 1–255 printable ASCII characters (a UUID): the first answer to the key is replayed for the same request, with `Idempotent-Replayed: true`',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
};
const idempotencyConflict = {
  description:
    '`idempotency_key_reused`: the Idempotency-Key was used for another request; `idempotency_key_in_progress`: its first request still runs',
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/Error' },
      example: {
        error: {
          code: 'idempotency_key_reused',
          message: 'this Idempotency-Key was used for a different request (method, path or body)',
          details: [],
        },
      },
    },
  },
};

const TAG_DESCRIPTIONS: Record<string, string> = {
  admin: 'Apps, keys, settings and integrations (admin token)',
  notifications: 'Sending and reading notifications',
  users: 'Users, their devices, topics, preferences and delivery log',
  templates: 'Versioned message templates',
  deliveries: 'Failed deliveries and re-drive',
  stats: 'Delivery and engagement counts',
  webhooks: 'Status webhook subscriptions',
  events: 'Events that trigger workflows',
  callbacks: 'Provider status callbacks (signed by the provider)',
  unsubscribe: 'One-click unsubscribe',
  tracking: 'Open and click tracking',
  ops: 'Health, readiness and metrics',
};

/** The group a path is listed under: the first segment after /v1, else admin, tracking or ops. */
function tagOf(path: string): string {
  const [first, second] = path.split('/').filter(Boolean);
  if (first === 'v1' && second) return second;
  if (first === 'admin') return 'admin';
  if (first === 't') return 'tracking';
  return 'ops';
}

/** `post /admin/apps/{appId}/keys` → `postAdminAppsByAppIdKeys`: unique per method and path, stable. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment && segment !== 'v1')
    .map((segment) => (segment.startsWith('{') ? `by-${segment.slice(1, -1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method, ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/**
 * Gives every operation an operationId and a tag (what generated clients and the docs UI name and
 * group operations by), keeping any written by hand, and lists the tags in use.
 */
export function describeOperations<T extends Document>(document: T): T {
  const used = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      operation.operationId ??= operationIdOf(method, path);
      operation.tags ??= [tagOf(path)];
      // Authenticated writes take an Idempotency-Key (routes open to providers ignore it).
      const authenticated = !(Array.isArray(operation.security) && operation.security.length === 0);
      if (WRITES.has(method) && authenticated && /^\/(v1|admin)\//.test(path)) {
        operation.parameters = [
          ...(operation.parameters ?? []),
          { $ref: '#/components/parameters/IdempotencyKey' },
        ];
        operation.responses = { 409: idempotencyConflict, ...operation.responses };
      }
      for (const tag of operation.tags) used.add(tag);
    }
  }
  document.components = {
    ...document.components,
    parameters: { ...document.components?.parameters, IdempotencyKey: idempotencyKey },
  };
  document.tags = [...used].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name }));
  return document;
}
