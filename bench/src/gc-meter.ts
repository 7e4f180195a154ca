/**
 * Garbage collection in the server's processes over a phase, read from their `/metrics`
 * (prom-client's default `nodejs_gc_duration_seconds` histogram, by kind). A scavenge happens each
 * time the young generation fills, so scavenges per delivery follow the bytes a delivery allocates
 * and move far less with this machine's speed than CPU time does; GC milliseconds show the share
 * of the process's CPU the collector's pauses take on its main thread.
 */

/** Totals since the process started: pause time (ms) and collections, young (`minor`) and full (`major`). */
export interface GcTotals {
  ms: number;
  scavenges: number;
  full: number;
}

const LINE = /^nodejs_gc_duration_seconds_(sum|count)\{([^}]*)\}\s+(\S+)/;

/** The GC totals of one process's Prometheus text; zeros when it exports none. */
export function parseGcTotals(text: string): GcTotals {
  const totals: GcTotals = { ms: 0, scavenges: 0, full: 0 };
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const kind = /kind="([^"]*)"/.exec(m[2]!)?.[1];
    const value = Number(m[3]);
    if (m[1] === 'sum') totals.ms += value * 1000;
    else if (kind === 'minor') totals.scavenges += value;
    else if (kind === 'major') totals.full += value;
  }
  return totals;
}

async function totalsOf(url: string): Promise<GcTotals> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new Error(`${url}/metrics answered ${res.status}`);
  return parseGcTotals(await res.text());
}

/** Reads each named process's totals at the start and answers the difference at `used()`. */
export class GcMeter {
  private constructor(
    private readonly urls: Record<string, string>,
    private readonly start: Record<string, GcTotals>,
  ) {}

  static async start(urls: Record<string, string>): Promise<GcMeter> {
    const start: Record<string, GcTotals> = {};
    for (const [name, url] of Object.entries(urls)) start[name] = await totalsOf(url);
    return new GcMeter(urls, start);
  }

  async used(): Promise<Record<string, GcTotals>> {
    const used: Record<string, GcTotals> = {};
    for (const [name, url] of Object.entries(this.urls)) {
      const now = await totalsOf(url);
      const before = this.start[name]!;
      used[name] = {
        ms: now.ms - before.ms,
        scavenges: now.scavenges - before.scavenges,
        full: now.full - before.full,
      };
    }
    return used;
  }
}

/** The result fields for a phase of `deliveries`: GC ms per delivery and scavenges per 1,000, by process. */
export function gcFields(used: Record<string, GcTotals>, deliveries: number): Record<string, number> {
  const n = Math.max(1, deliveries);
  const fields: Record<string, number> = {};
  for (const [name, t] of Object.entries(used)) {
    fields[`gc_ms_per_delivery_${name}`] = Math.round((1000 * t.ms) / n) / 1000;
    fields[`scavenges_per_1000_deliveries_${name}`] = Math.round((10_000 * t.scavenges) / n) / 10;
  }
  return fields;
}
