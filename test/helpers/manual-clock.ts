// A clock the test moves by hand (implements src/timers.ts Timers): timers fire only inside
// advance(), in time order, so a 20-minute watchdog period takes no real time at all.
import type { Timers } from '../../src/timers.js';

interface Entry {
  at: number;
  fn: () => void;
  every?: number;
}

export class ManualClock implements Timers {
  private t: number;
  private nextId = 1;
  private readonly due = new Map<number, Entry>();

  constructor(start = Date.now()) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.due.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    const every = Math.max(1, ms);
    this.due.set(id, { at: this.t + every, fn, every });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** Timers not yet fired (a leak check for the parts under test). */
  get pending(): number {
    return this.due.size;
  }

  /** Moves time forward by ms, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let fired = 0; fired < 100_000; fired++) {
      let nextId: number | undefined;
      let next: Entry | undefined;
      for (const [id, e] of this.due) {
        if (e.at <= end && (next === undefined || e.at < next.at)) {
          nextId = id;
          next = e;
        }
      }
      if (next === undefined || nextId === undefined) break;
      this.t = Math.max(this.t, next.at);
      if (next.every !== undefined) next.at += next.every;
      else this.due.delete(nextId);
      next.fn();
    }
    this.t = end;
  }
}
