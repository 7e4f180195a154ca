import { readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in bytes (`VmRSS`, `VmHWM`); 0 when the process or /proc is gone. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Peak resident memory of named processes: VmRSS sampled every `intervalMs`, and the kernel's own
 * high-water mark (VmHWM) when read, whichever is larger. VmHWM covers the whole life of the
 * process, so a peak from start-up counts too; the samples catch it where VmHWM is unavailable.
 */
export class PeakRss {
  private readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: Record<string, number>,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids))
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, statusBytes(pid, 'VmRSS')));
  }

  /** Stops sampling; peak MB per process name. Call before the processes exit. */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids))
      out[name] = Math.round(Math.max(this.peaks.get(name) ?? 0, statusBytes(pid, 'VmHWM')) / 1024 / 1024);
    return out;
  }
}
