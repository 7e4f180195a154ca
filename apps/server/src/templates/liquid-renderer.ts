import { Liquid } from 'liquidjs';
import { ApiError } from '../common/api-error';

/**
 * Liquid rendering, sandboxed: no file system (no `root`, includes disabled), own properties
 * only, bounded parse/render work and output. Strict: an undefined variable is an error
 * naming it, never an empty string in a user's phone.
 */
const engine = new Liquid({
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  parseLimit: 100_000,
  renderLimit: 200,
  memoryLimit: 10_000_000,
  cache: false,
  jsTruthy: false,
});

type Parsed = ReturnType<Liquid['parse']>;
const compiled = new Map<string, Parsed>();

function parse(source: string): Parsed {
  let tpl = compiled.get(source);
  if (!tpl) {
    tpl = engine.parse(source);
    if (compiled.size > 5000) compiled.clear();
    compiled.set(source, tpl);
  }
  return tpl;
}

/** Renders one string; plain strings (no `{{` or `{%`) pass through untouched and cost nothing. */
export function renderString(source: string, scope: Record<string, unknown>, field: string): string {
  if (!source.includes('{')) return source;
  try {
    return engine.renderSync(parse(source), scope) as string;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'render failed';
    throw new ApiError(422, 'template_error', `${field}: ${message}`, { field });
  }
}

/** Renders every string in a content object (deeply), field paths for error messages. */
export function renderDeep<T>(value: T, scope: Record<string, unknown>, path: string): T {
  if (typeof value === 'string') return renderString(value, scope, path) as T;
  if (Array.isArray(value)) return value.map((v, i) => renderDeep(v, scope, `${path}[${i}]`)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, scope, `${path}.${k}`);
    return out as T;
  }
  return value;
}

/** Syntax check at save time: line and column of the first error. */
export function checkSyntax(source: string): { line: number; column: number; message: string } | null {
  try {
    engine.parse(source);
    return null;
  } catch (error) {
    const e = error as Error & { token?: { getPosition?: () => [number, number] } };
    const [line, column] = e.token?.getPosition?.() ?? [0, 0];
    return { line, column, message: e.message.split(',')[0] ?? e.message };
  }
}
