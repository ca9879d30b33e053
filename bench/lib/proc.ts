// What a process costs, read from /proc (Linux): CPU seconds (utime + stime) and resident memory
// (VmRSS now, VmHWM = peak), sampled on a timer while a run goes on.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = Number(r.stdout.trim()) || 100;
  }
  return clockTicks;
}

/** CPU seconds (user + system) used by the process so far; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

/** VmRSS and VmHWM in MB; NaN if the process is gone. */
export function memoryMB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

export interface RssSample {
  atMs: number;
  rssMB: number;
  /** What the caller's progress probe said at that moment (e.g. rows stored). */
  progress: number;
}

/** Samples a process's RSS every `everyMs` until stop(); keeps the peak and the series. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  peakMB = 0;

  constructor(
    private readonly pid: number,
    private readonly everyMs: number,
    private readonly progress: () => number = () => 0,
  ) {}

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  sample(): number {
    const { rss, peak } = memoryMB(this.pid);
    if (!Number.isNaN(rss)) {
      this.samples.push({ atMs: Date.now(), rssMB: rss, progress: this.progress() });
      this.peakMB = Math.max(this.peakMB, rss, Number.isNaN(peak) ? 0 : peak);
    }
    return rss;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Machine-wide CPU time so far (all cores), from /proc/stat: busy and total jiffies. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Share of the machine's CPU (0..1, all cores) used between two machineCpu() readings. */
export function machineBusy(from: { busy: number; total: number }, to: { busy: number; total: number }): number {
  return (to.busy - from.busy) / (to.total - from.total);
}
