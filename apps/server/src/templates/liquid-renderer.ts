import { Context, Drop, Liquid, toValue, toValueSync } from 'liquidjs';
import { LRUCache } from 'lru-cache';
import { RenderError, TemplateError } from '../common/errors/template-errors';
import { countTags, LIQUID_LIMITS, tooManyTags } from './liquid-limits';
import { NO_FILE_SYSTEM, refuseFileTags } from './liquid-sandbox';

/**
 * Liquid rendering, sandboxed: no file system (`include`, `render`, `layout` refused; see
 * liquid-sandbox.ts), own properties only, bounded parse/render work and output. Strict: an
 * undefined variable is an error naming it, never an empty string in a user's phone.
 */
const engine = refuseFileTags(
  new Liquid({
    ...NO_FILE_SYSTEM,
    strictVariables: true,
    // `{% if user.vip %}` and `{{ user.nickname | default: user.name }}` test for absence instead of failing.
    lenientIf: true,
    strictFilters: true,
    ownPropertyOnly: true,
    parseLimit: 1_000_000, // the e-mail HTML schema allows 1 MB; render time is bounded by renderLimit
    renderLimit: 200,
    memoryLimit: 10_000_000,
    cache: false,
    jsTruthy: false,
  }),
);

type Parsed = ReturnType<Liquid['parse']>;

/**
 * Parses a string after counting its tags: liquidjs parses n tags in O(n²) time (140,000 tags
 * hold the event loop for about 45 s), so a string over the limit is refused unparsed.
 */
function parseBounded(liquid: Liquid, source: string, field: string): Parsed {
  const tags = countTags(source);
  if (tags > LIQUID_LIMITS.tagsPerString) throw tooManyTags(field, tags);
  return liquid.parse(source);
}

/**
 * Parsed inline strings, so content sent to many users is parsed once. Bounded by weight (about
 * what a parsed template holds per source character), not by count: every distinct body of every
 * request would otherwise stay in memory with its parsed form.
 */
const PARSED_WEIGHT_PER_CHAR = 4;
const inlineParsed = new LRUCache<string, Parsed>({
  maxSize: LIQUID_LIMITS.inlineCacheWeight,
  maxEntrySize: LIQUID_LIMITS.inlineCacheWeight / 64,
  sizeCalculation: (_parsed, source) => Math.max(1, source.length * PARSED_WEIGHT_PER_CHAR),
});

/** What the inline parse cache holds now, in the units of its bound (tests). */
export function inlineCacheWeight(): number {
  return inlineParsed.calculatedSize;
}

function parseInline(source: string, field: string): Parsed {
  let tpl = inlineParsed.get(source);
  if (!tpl) {
    tpl = parseBounded(engine, source, field);
    inlineParsed.set(source, tpl);
  }
  return tpl;
}

/** A failed render as the error it is: the field, and the variable when one was missing. */
function renderError(error: unknown, field: string): RenderError {
  const message = (error as Error).message.split('\n')[0] ?? 'render failed';
  const variable = /undefined variable: ([^,\s]+)/.exec(message)?.[1];
  return new RenderError('template_error', `${field}: ${message}`, {
    field,
    ...(variable ? { variable } : {}),
  });
}

export const contentTooLarge = (field: string, size: string, limit: string) =>
  new RenderError('content_too_large', `${field}: renders to ${size}, over the ${limit} limit`, {
    field,
  });

/**
 * Collects a render's output and stops it once it passes `limit` characters: otherwise a 1 MB
 * value output 450 times is a 450 MB string before anything can measure it.
 */
class CappedEmitter {
  buffer = '';
  overflowed = false;
  constructor(private readonly limit: number) {}
  write(html: unknown): void {
    const value = toValue(html);
    const text =
      typeof value === 'string'
        ? value
        : value === null || value === undefined
          ? ''
          : Array.isArray(value)
            ? value.map((v) => String(toValue(v) ?? '')).join('')
            : String(value);
    if (this.buffer.length + text.length > this.limit) {
      this.overflowed = true;
      throw new Error(`output over ${this.limit} characters`);
    }
    this.buffer += text;
  }
}

/** Renders a parsed template with its output capped at LIQUID_LIMITS.renderedChars. */
function renderParsed(liquid: Liquid, tpl: Parsed, scope: object, field: string): string {
  const emitter = new CappedEmitter(LIQUID_LIMITS.renderedChars);
  try {
    const ctx = new Context(scope, liquid.options, { sync: true }, { liquid });
    return toValueSync(liquid.renderer.renderTemplates(tpl, ctx, emitter)) as string;
  } catch (error) {
    if (emitter.overflowed)
      throw contentTooLarge(
        field,
        `more than ${LIQUID_LIMITS.renderedChars} characters`,
        `${LIQUID_LIMITS.renderedChars}-character`,
      );
    throw error;
  }
}

/** Renders one string; plain strings (no `{{` or `{%`) pass through untouched and cost nothing. */
export function renderString(source: string, scope: Record<string, unknown>, field: string): string {
  if (!source.includes('{')) return source;
  try {
    return renderParsed(engine, parseInline(source, field), scope, field);
  } catch (error) {
    throw error instanceof TemplateError ? error : renderError(error, field);
  }
}

const URL_FIELDS = ['image', 'url', 'icon'] as const;

/**
 * Push and web content may template their URLs (`https://shop/{{ data.id }}`); what they render
 * to must still be a URL, or the provider would refuse every delivery.
 */
export function checkRenderedUrls(channel: string, rendered: unknown, field: string): void {
  if ((channel !== 'push' && channel !== 'web') || rendered === null || typeof rendered !== 'object') return;
  for (const key of URL_FIELDS) {
    const value = (rendered as Record<string, unknown>)[key];
    if (typeof value === 'string' && !URL.canParse(value)) {
      throw new RenderError(
        'template_error',
        `${field}.${key}: renders to "${value.slice(0, 100)}", which is not a URL`,
        {
          field: `${field}.${key}`,
        },
      );
    }
  }
}

/** Renders every string in a content object (deeply), field paths for error messages. */
export function renderDeep<T>(value: T, scope: Record<string, unknown>, path: string): T {
  const out = renderTree(value, scope, path);
  const channel = /^content\.(push|web)$/.exec(path)?.[1];
  if (channel) checkRenderedUrls(channel, out, path);
  return out;
}

function renderTree<T>(value: T, scope: Record<string, unknown>, path: string): T {
  if (typeof value === 'string') return renderString(value, scope, path) as T;
  if (Array.isArray(value)) return value.map((v, i) => renderTree(v, scope, `${path}[${i}]`)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderTree(v, scope, `${path}.${k}`);
    return out as T;
  }
  return value;
}

/** Syntax check at save time: line and column of the first error. */
export function checkSyntax(
  source: string,
  field = 'template',
): { line: number; column: number; message: string } | null {
  try {
    parseBounded(engine, source, field);
    return null;
  } catch (error) {
    if (error instanceof TemplateError) return { line: 0, column: 0, message: error.message };
    const e = error as Error & { token?: { getPosition?: () => [number, number] } };
    const [line, column] = e.token?.getPosition?.() ?? [0, 0];
    return { line, column, message: e.message.split(',')[0] ?? e.message };
  }
}

/**
 * A content tree parsed once (stored template versions are immutable, so this is cached by
 * key+version): Liquid strings become parsed templates, everything else stays a literal.
 */
export type Compiled =
  | { kind: 'literal'; value: unknown }
  | { kind: 'liquid'; template: Parsed; field: string }
  | { kind: 'array'; items: Compiled[] }
  | { kind: 'object'; entries: [string, Compiled][] };

export function compileDeep(value: unknown, path: string): Compiled {
  if (typeof value === 'string')
    return value.includes('{')
      ? { kind: 'liquid', template: parseBounded(engine, value, path), field: path }
      : { kind: 'literal', value };
  if (Array.isArray(value))
    return { kind: 'array', items: value.map((v, i) => compileDeep(v, `${path}[${i}]`)) };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'object',
      entries: Object.entries(value).map(([k, v]) => [k, compileDeep(v, `${path}.${k}`)]),
    };
  }
  return { kind: 'literal', value };
}

/** Renders a compiled tree with the strict engine: a missing variable is a RenderError naming it. */
export function renderCompiled(compiled: Compiled, scope: Record<string, unknown>): unknown {
  switch (compiled.kind) {
    case 'literal':
      return compiled.value;
    case 'liquid':
      try {
        return renderParsed(engine, compiled.template, scope, compiled.field);
      } catch (error) {
        throw error instanceof TemplateError ? error : renderError(error, compiled.field);
      }
    case 'array':
      return compiled.items.map((c) => renderCompiled(c, scope));
    case 'object':
      return Object.fromEntries(compiled.entries.map(([k, c]) => [k, renderCompiled(c, scope)]));
  }
}

/**
 * Lenient twin of the strict engine, for size estimates only: a missing variable renders as
 * nothing, so the result is the template's static part (plus whatever sample data fills in).
 */
const loose = refuseFileTags(
  new Liquid({
    ...NO_FILE_SYSTEM,
    strictVariables: false,
    strictFilters: false,
    ownPropertyOnly: true,
    parseLimit: 1_000_000, // the e-mail HTML schema allows 1 MB; render time is bounded by renderLimit
    renderLimit: 200,
    memoryLimit: 10_000_000,
    jsTruthy: false,
  }),
);

export function renderLoose<T>(value: T, scope: Record<string, unknown>): T {
  if (typeof value === 'string') {
    if (!value.includes('{')) return value;
    try {
      return renderParsed(loose, parseBounded(loose, value, 'template'), scope, 'template') as T;
    } catch (error) {
      if (error instanceof RenderError && error.code === 'content_too_large') throw error;
      return '' as T; // a string that does not even render loosely adds nothing static
    }
  }
  if (Array.isArray(value)) return value.map((v) => renderLoose(v, scope)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderLoose(v, scope)])) as T;
  }
  return value;
}

/** Every string in a content tree with its path (for syntax checks). */
export function stringsOf(
  value: unknown,
  path: string,
  out: { path: string; source: string }[] = [],
): { path: string; source: string }[] {
  if (typeof value === 'string') {
    out.push({ path, source: value });
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) stringsOf(v, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) stringsOf(v, `${path}.${k}`, out);
  }
  return out;
}

/** A user who has every attribute (each one empty): checks a template's `data` variables before the users are known. */
export class AnyUser extends Drop {
  override liquidMethodMissing(): AnyUser {
    return new AnyUser();
  }
  override valueOf(): string {
    return '';
  }
  override toString(): string {
    return '';
  }
}
