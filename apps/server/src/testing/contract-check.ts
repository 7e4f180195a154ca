import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../ops/openapi';
import { uncheckedFetch } from './checked-fetch';

type Json = Record<string, unknown>;
interface Operation {
  path: string;
  pattern: RegExp;
  /** Literal segments first: `/v1/deliveries/redrive` wins over `/v1/deliveries/{id}`. */
  literals: number;
  method: string;
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

let loaded:
  | {
      operations: Operation[];
      compile: (schema: Json) => ValidateFunction;
      compiled: Map<string, ValidateFunction>;
    }
  | undefined;

/** The document's components as one JSON Schema that answers' `$ref`s point into. */
const ROOT = 'clarion-openapi';
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string'
        ? v.replace('#/components/schemas/', `${ROOT}#/$defs/`)
        : rewriteRefs(v),
    ]),
  );
}

/**
 * An Ajv (2020-12, formats) that knows the document's components: `compile` takes any schema of
 * the document (its `$ref`s resolved there). Shared with the examples test, so examples and real
 * answers are judged alike.
 */
export function documentValidator(components: Json): {
  ajv: Ajv2020;
  compile: (schema: Json) => ValidateFunction;
} {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: ROOT, $defs: rewriteRefs(components) as Json });
  return { ajv, compile: (schema) => ajv.compile(rewriteRefs(schema) as Json) };
}

function load() {
  if (loaded) return loaded;
  const document = openApiDocument() as unknown as {
    paths: Record<string, Record<string, Operation['responses'] | Json>>;
    components: { schemas: Json };
  };
  const { compile } = documentValidator(document.components.schemas);
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const segments = path.split('/');
    const pattern = new RegExp(
      `^${segments.map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`,
    );
    for (const [method, operation] of Object.entries(item)) {
      operations.push({
        path,
        pattern,
        literals: segments.filter((s) => s && !s.startsWith('{')).length,
        method: method.toUpperCase(),
        responses: (operation as { responses: Operation['responses'] }).responses,
      });
    }
  }
  operations.sort((a, b) => b.literals - a.literals);
  loaded = { operations, compile, compiled: new Map() };
  return loaded;
}

/** The problem with an answer, or null when it is what the document declares. */
export async function contractProblem(method: string, url: string, res: Response): Promise<string | null> {
  const { operations, compile, compiled } = load();
  const pathname = new URL(url, 'http://localhost').pathname;
  const operation = operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(pathname));
  // Routes the document does not have (a test's unknown path or method) declare nothing to check.
  if (!operation) return null;
  const where = `${method.toUpperCase()} ${pathname} (${operation.path})`;
  const declared = operation.responses[String(res.status)];
  if (!declared)
    return `${where} answered ${res.status}, which the document does not declare (declared: ${Object.keys(operation.responses).join(', ')})`;
  const schema = declared.content?.['application/json']?.schema;
  if (!schema || method.toUpperCase() === 'HEAD') return null;
  if (!(res.headers.get('content-type') ?? '').includes('json'))
    return `${where} ${res.status}: declared JSON, answered ${res.headers.get('content-type') ?? 'no content type'}: ${(await res.clone().text()).slice(0, 200)}`;
  const text = await res.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${where} ${res.status}: the body is not JSON: ${text.slice(0, 200)}`;
  }
  const key = `${operation.method} ${operation.path} ${res.status}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = compile(schema);
    compiled.set(key, validate);
  }
  if (validate(body)) return null;
  const errors = (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  return `${where} ${res.status}: the body does not match the document: ${errors.join('; ')}\nbody: ${text.slice(0, 500)}`;
}

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

/** Throws (failing the test) when an answer is not what the OpenAPI document declares. */
export async function assertAnswerMatches(method: string, url: string, res: Response): Promise<Response> {
  const problem = await contractProblem(method, url, res);
  if (problem) throw new ContractViolation(problem);
  return res;
}

/** fetch that checks every answer against the document (for clients built on fetch). */
export const contractFetch: typeof fetch = async (input, init) => {
  const request = input instanceof Request ? input : undefined;
  const method = init?.method ?? request?.method ?? 'GET';
  const url = request?.url ?? String(input);
  return assertAnswerMatches(method, url, await uncheckedFetch()(input, init));
};
