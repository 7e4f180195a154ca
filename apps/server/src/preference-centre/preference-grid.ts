import { ANY, userAllows } from '../contacts/preference-rules';
import type { PutPreferences } from '../preferences/preference-schemas';
import type { PreferencesView } from '../preferences/preferences.service';

export interface GridCell {
  channel: string;
  category: string;
  /** What applies now: the user's most specific rule, else the app's default for the category. */
  enabled: boolean;
  /** A critical category: always sent, shown but not editable. */
  fixed: boolean;
}

export interface PreferenceGrid {
  channels: string[];
  /** Named categories first, `*` (everything else) last. */
  categories: { name: string; fixed: boolean }[];
  cells: GridCell[];
}

export const cellKey = (channel: string, category: string) => `${channel}:${category}`;

function effective(
  view: PreferencesView,
  rules: PreferencesView['rules'],
  channel: string,
  category: string,
) {
  const own = userAllows(rules, channel, category);
  if (own !== undefined) return own;
  return category === ANY ? true : view.app.categoryDefaults[category] !== 'opt_in';
}

/**
 * The page's toggles: the app's delivery channels × the categories the app names (its defaults
 * and critical ones) and those the user has rules for, plus `*` for everything else.
 */
export function preferenceGrid(view: PreferencesView, channels: string[]): PreferenceGrid {
  const critical = new Set(view.app.criticalCategories);
  const ruleChannels = view.rules.map((r) => r.channel).filter((c) => c !== ANY);
  const allChannels = [...new Set([...channels, ...ruleChannels])];
  const named = [
    ...new Set([
      ...Object.keys(view.app.categoryDefaults),
      ...view.app.criticalCategories,
      ...view.rules.map((r) => r.category),
    ]),
  ]
    .filter((c) => c !== ANY)
    .sort();
  const categories = [
    ...named.map((name) => ({ name, fixed: critical.has(name) })),
    { name: ANY, fixed: false },
  ];
  const cells = categories.flatMap((cat) =>
    allChannels.map((channel) => ({
      channel,
      category: cat.name,
      enabled: cat.fixed || effective(view, view.rules, channel, cat.name),
      fixed: cat.fixed,
    })),
  );
  return { channels: allChannels, categories, cells };
}

/**
 * The rules that make every editable toggle the page showed (`shown`) match the form (`on`):
 * `*` rows first, then each named cell that would not otherwise end up as asked. Cells not
 * shown, and fixed ones, are left alone; so a form cannot switch off a critical category.
 */
export function rulesFromForm(
  view: PreferencesView,
  grid: PreferenceGrid,
  shown: Set<string>,
  on: Set<string>,
): NonNullable<PutPreferences['rules']> {
  const rules = [...view.rules];
  const out: NonNullable<PutPreferences['rules']> = [];
  const editable = grid.cells.filter((c) => !c.fixed && shown.has(cellKey(c.channel, c.category)));
  const ordered = [
    ...editable.filter((c) => c.category === ANY),
    ...editable.filter((c) => c.category !== ANY),
  ];
  for (const cell of ordered) {
    const wanted = on.has(cellKey(cell.channel, cell.category));
    if (effective(view, rules, cell.channel, cell.category) === wanted) continue;
    out.push({ channel: cell.channel, category: cell.category, enabled: wanted });
    rules.unshift({
      channel: cell.channel,
      category: cell.category,
      enabled: wanted,
      source: '',
      updatedAt: '',
    });
  }
  return out;
}
