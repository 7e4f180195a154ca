import { type Compiled, compileDeep } from './liquid-renderer';
import { mergeVariants } from './locale-fallback';
import type { ChannelContents } from './notification-request';
import type { TemplateVersionRecord } from './template-repository';
import { normalizeLocale } from './template-schemas';

/** A template version parsed once: per channel, the default content and each locale variant (merged over its parents). */
export interface CompiledTemplate {
  record: TemplateVersionRecord;
  defaults: Map<string, Compiled>;
  /** Normalised locale → channel → compiled content. */
  variants: Map<string, Map<string, Compiled>>;
  /** Normalised locale → channels it has (for `pickLocale`). */
  variantChannels: Map<string, Set<string>>;
  /** Normalised locale → the tag as published (for answers). */
  tags: Map<string, string>;
}

function compileContents(contents: ChannelContents, path: string): Map<string, Compiled> {
  const out = new Map<string, Compiled>();
  for (const [channel, content] of Object.entries(contents)) {
    if (content !== undefined) out.set(channel, compileDeep(content, `${path}.${channel}`));
  }
  return out;
}

export function compileTemplate(record: TemplateVersionRecord): CompiledTemplate {
  const variants = new Map<string, Map<string, Compiled>>();
  const variantChannels = new Map<string, Set<string>>();
  const tags = new Map<string, string>();
  const merged = mergeVariants(record.content, record.locales);
  for (const tag of Object.keys(record.locales)) {
    const norm = normalizeLocale(tag);
    const compiled = compileContents(merged.get(norm) ?? {}, `locales.${tag}`);
    variants.set(norm, compiled);
    variantChannels.set(norm, new Set(compiled.keys()));
    tags.set(norm, tag);
  }
  return { record, defaults: compileContents(record.content, 'content'), variants, variantChannels, tags };
}
