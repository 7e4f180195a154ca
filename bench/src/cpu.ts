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
 * every `sample()` and at the end, so a process that started in between (a new database connection)
 * counts from zero, and one that exited in between keeps what it had used when last sampled (a pool
 * closing idle connections took their CPU out of PostgreSQL's figure when only the living counted).
 */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  /** The latest reading of each process seen, by group. */
  private readonly latest = new Map<string, Map<number, number>>();

  constructor(private readonly groups: ProcessGroups) {
    for (const [name, pids] of Object.entries(groups)) {
      const seen = new Map<number, number>();
      for (const pid of pids()) {
        const ms = processCpuMs(pid) ?? 0;
        this.start.set(pid, ms);
        seen.set(pid, ms);
      }
      this.latest.set(name, seen);
    }
  }

  /** Reads every group's processes now; call it every second or so while processes come and go. */
  sample(): void {
    for (const [name, pids] of Object.entries(this.groups)) {
      const seen = this.latest.get(name)!;
      for (const pid of pids()) {
        const ms = processCpuMs(pid);
        if (ms !== undefined) seen.set(pid, ms);
      }
    }
  }

  /** ms of CPU per group since construction. */
  used(): Record<string, number> {
    this.sample();
    const out: Record<string, number> = {};
    for (const [name, seen] of this.latest) {
      let sum = 0;
      for (const [pid, ms] of seen) sum += ms - (this.start.get(pid) ?? 0);
      out[name] = sum;
    }
    return out;
  }
}

/** Busy, steal and total jiffies of all cores together, from the first line of /proc/stat; undefined off Linux. */
function machineJiffies(): { busy: number; steal: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are the cores doing nothing.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - fields[3]! - fields[4]!, steal: fields[7] ?? 0, total };
  } catch {
    return undefined;
  }
}

/** /proc/stat counts in USER_HZ ticks, 100 a second on Linux. */
const MS_PER_JIFFY = 10;

export interface MachineUsage {
  /** Share of the cores' time that was busy (with anything). */
  busy: number;
  /** Share of the cores' time the hypervisor gave to other guests. */
  steal: number;
  /** Busy core-milliseconds in all: set against the measured processes', it shows what else ran. */
  busyMs: number;
}

/**
 * How busy the machine's cores were between construction and `usage()`. A throughput figure
 * means something only when `busy` is near 1 (below it, the load generator's pacing set the
 * rate), and only when the busy time is the bench's own: another process on the machine, or
 * steal, leaves less CPU for Clarion and shows here.
 */
export class MachineBusy {
  private readonly start = machineJiffies();

  usage(): MachineUsage | undefined {
    const end = machineJiffies();
    if (!this.start || !end || end.total === this.start.total) return undefined;
    const total = end.total - this.start.total;
    return {
      busy: (end.busy - this.start.busy) / total,
      steal: (end.steal - this.start.steal) / total,
      busyMs: (end.busy - this.start.busy) * MS_PER_JIFFY,
    };
  }
}

/**
 * The JSON fields for CPU per delivery: `cpu_ms_per_delivery_<process>` for each process, and
 * `cpu_ms_per_delivery_all`, their sum (every process on the machine that took part: where the
 * cores are full, a campaign's time goes with it, so comparisons of variants read this one first).
 * `name` is cut at its first space (`worker 1` → `worker`).
 */
export function cpuPerDeliveryFields(
  perDelivery: readonly (readonly [string, number])[],
): Record<string, number> {
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  const fields: Record<string, number> = {};
  for (const [name, ms] of perDelivery) fields[`cpu_ms_per_delivery_${name.split(' ')[0]}`] = round(ms);
  fields.cpu_ms_per_delivery_all = round(perDelivery.reduce((sum, [, ms]) => sum + ms, 0));
  return fields;
}
