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
