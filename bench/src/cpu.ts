import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports process CPU in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const MS_PER_TICK = 10;

/** CPU time (user + system, ms) a process has used so far; undefined when /proc has no such process. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** Pids of local processes with this command name (`postgres`, `redis-server`); empty off Linux. */
export function pidsNamed(name: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Named groups of processes whose CPU is compared between two moments. */
export type ProcessGroups = Record<string, () => number[]>;

/**
 * Measures the CPU each group used between `new CpuMeter(...)` and `used()`. Groups are re-read at
 * the end, so a process that started in between (a new database connection) counts from zero.
 */
export class CpuMeter {
  private readonly start = new Map<number, number>();

  constructor(private readonly groups: ProcessGroups) {
    for (const pids of Object.values(groups))
      for (const pid of pids()) this.start.set(pid, processCpuMs(pid) ?? 0);
  }

  /** ms of CPU per group since construction. */
  used(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) {
      out[name] = pids().reduce(
        (sum, pid) => sum + ((processCpuMs(pid) ?? 0) - (this.start.get(pid) ?? 0)),
        0,
      );
    }
    return out;
  }
}
