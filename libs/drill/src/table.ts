import type { ScenarioResult } from './run-scenario';

const COLUMNS = [
  'scenario',
  'accepted',
  'received',
  'lost',
  'duplicated',
  'stuck',
  'client errors',
  'drain after fault',
  'after client',
];

/** The drill's report: one row per scenario, aligned for a terminal or a Markdown file. */
export function resultTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.scenario,
    String(r.accepted),
    String(r.receivedUnique),
    String(r.lost),
    r.kills > 0 && r.duplicated > 0
      ? `${r.duplicated} (${r.duplicatedAtKill} at a kill)`
      : String(r.duplicated),
    String(r.stuck),
    errorsText(r.errors),
    seconds(r.drainMs),
    seconds(r.drainAfterClientMs),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function errorsText(errors: Record<string, number>): string {
  const parts = Object.entries(errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}×${n}`);
  return parts.length > 0 ? parts.join(' ') : 'none';
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? 'not drained' : `${(ms / 1000).toFixed(1)} s`;
}
