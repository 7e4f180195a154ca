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
  const order: [string, string][] = [
    [channel, cat],
    [ANY, cat],
    [channel, ANY],
    [ANY, ANY],
  ];
  for (const [ch, ca] of order) {
    const hit = rules.find((r) => r.channel === ch && r.category === ca);
    if (hit) return hit.enabled;
  }
  return undefined;
}
