import type { ChannelContents } from './notification-request';
import { normalizeLocale } from './template-schemas';

/**
 * The locales to try for a user, most specific first: `zh-Hant-TW` → `zh-hant-tw`, `zh-hant`,
 * `zh`. The template's default content comes after all of them.
 */
export function localeChain(locale: string | null | undefined): string[] {
  if (!locale) return [];
  const parts = normalizeLocale(locale).split('-').filter(Boolean);
  const chain: string[] = [];
  for (let n = parts.length; n > 0; n--) chain.push(parts.slice(0, n).join('-'));
  return chain;
}

/**
 * Which variant a user gets for one channel: the first locale of their chain that has content
 * for it (`pt-BR` → `pt`), else the default. `variants` are keyed by normalised locale.
 * Returns the locale picked (null: the default content).
 */
export function pickLocale(
  variants: ReadonlyMap<string, ReadonlySet<string>>,
  channel: string,
  locale: string | null | undefined,
): string | null {
  for (const candidate of localeChain(locale)) {
    if (variants.get(candidate)?.has(channel)) return candidate;
  }
  return null;
}

/**
 * What each variant sends, field by field: a variant overrides the fields it gives and inherits
 * the rest from its parent locales and the default (`pt-BR` push with only title and body keeps
 * the default's url, image and data). Keyed by normalised locale; only the variant's own channels.
 */
export function mergeVariants(
  content: ChannelContents,
  locales: Record<string, ChannelContents>,
): Map<string, ChannelContents> {
  const byLocale = new Map(Object.entries(locales).map(([tag, c]) => [normalizeLocale(tag), c]));
  const merged = new Map<string, ChannelContents>();
  for (const [locale, own] of byLocale) {
    const chain = localeChain(locale).reverse(); // least specific first, this locale last
    const out: Record<string, unknown> = {};
    for (const channel of Object.keys(own) as (keyof ChannelContents)[]) {
      let value: Record<string, unknown> = { ...(content[channel] as Record<string, unknown> | undefined) };
      for (const step of chain) {
        const layer = byLocale.get(step)?.[channel] as Record<string, unknown> | undefined;
        if (layer) value = { ...value, ...layer };
      }
      out[channel] = value;
    }
    merged.set(locale, out as ChannelContents);
  }
  return merged;
}
