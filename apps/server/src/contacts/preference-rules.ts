/** One stored rule: `channel` / `category` may be `*` (every channel / every category). */
export interface PreferenceRule {
  channel: string;
  category: string;
  enabled: boolean;
}

export const ANY = '*';

/**
 * Whether a user's own rules allow `channel` for `category`. The most specific rule wins:
 * (channel, category) › (*, category) › (channel, *) › (*, *). `undefined` means the user
 * said nothing, and the app's category default applies.
 */
export function userAllows(
  rules: readonly PreferenceRule[],
  channel: string,
  category: string | null,
): boolean | undefined {
  const cat = category ?? ANY;
  // Called per recipient and channel in a fan-out: one pass, nothing allocated.
  let best: PreferenceRule | undefined;
  let bestRank = 0;
  for (const r of rules) {
    const rank = specificity(r, channel, cat);
    if (rank > bestRank) {
      best = r;
      bestRank = rank;
      if (rank === 4) break;
    }
  }
  return best?.enabled;
}

/**
 * How specific rule `r` is for (channel, category): 4 (channel, category), 3 (*, category),
 * 2 (channel, *), 1 (*, *), 0 when it does not apply. The first rule of the highest rank wins.
 */
function specificity(r: PreferenceRule, channel: string, category: string): number {
  const ch = r.channel === channel ? 2 : r.channel === ANY ? 1 : 0;
  const ca = r.category === category ? 2 : r.category === ANY ? 1 : 0;
  if (ch === 0 || ca === 0) return 0;
  // Category decides first: (*, category) beats (channel, *).
  return ca === 2 ? ch + 2 : ch;
}
