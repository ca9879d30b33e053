// One reading from values a device publishes as separate messages (Shelly gen 1
// `sensor/temperature` then `sensor/humidity`, ESPHome one topic per sensor, a Shelly gen 2
// NotifyStatus per changed value). Parts of one sensor arriving within the window (2 s) become
// ONE row; the window closes when it expires, when a value arrives a second time (the device's
// next round), once temperature, humidity and battery are all there, or at stop(). Sits between the decoder and the writer: each part's message is
// handed to the writer only when its window closes, the first one carrying the merged reading
// and the others marked "merged" (stored nothing, but committed in the same order, so every
// message is acknowledged only after the commit of the row it contributed to).
import { hasClimate, readingFromPart } from '../decoders/measurements.js';
import type { Reading, ReadingPart } from '../decoders/index.js';
import type { IncomingMessage } from '../store/reading-store.js';
import type { Timers } from '../timers.js';

export const MERGE_WINDOW_MS = 2000;

export interface ReadingMergerOptions {
  timers: Timers;
  windowMs?: number;
  /** Devices with an open window at most; past it the oldest window closes early (memory bound). */
  maxOpen?: number;
  /** Where closed windows go: ReadingWriter.submit. */
  submit: (message: IncomingMessage, committed?: () => void) => void;
  /** A merged reading was handed to the writer (for activity counters). */
  onReading?: (reading: Reading) => void;
}

interface Held {
  message: IncomingMessage;
  committed: (() => void) | undefined;
}

interface Window {
  sensorName: string;
  decoder: string;
  values: ReadingPart;
  held: Held[];
  timer: unknown;
}

export class ReadingMerger {
  private readonly open = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly maxOpen: number;
  private stopped = false;

  constructor(private readonly options: ReadingMergerOptions) {
    this.windowMs = options.windowMs ?? MERGE_WINDOW_MS;
    this.maxOpen = options.maxOpen ?? 10_000;
  }

  /** Messages held until their window closes. */
  get pending(): number {
    let n = 0;
    for (const w of this.open.values()) n += w.held.length;
    return n;
  }

  /** Takes a message whose result is a part; its `committed` runs after the merged row's commit. */
  add(message: IncomingMessage, committed?: () => void): void {
    const result = message.result;
    if (result.kind !== 'part') throw new Error(`ReadingMerger.add: a ${result.kind} is not a part`);
    if (this.stopped) {
      // After stop(): nothing may wait for a timer that will not come; stored as it is.
      this.options.submit(message, committed);
      return;
    }
    let w = this.open.get(result.sensorName);
    if (w && repeats(w.values, result.part)) {
      this.close(w);
      w = undefined;
    }
    if (!w) {
      if (this.open.size >= this.maxOpen) this.close(this.open.values().next().value!);
      const created: Window = { sensorName: result.sensorName, decoder: result.decoder, values: {}, held: [], timer: undefined };
      created.timer = this.options.timers.setTimeout(() => this.close(created), this.windowMs);
      this.open.set(result.sensorName, created);
      w = created;
    }
    Object.assign(w.values, result.part);
    w.held.push({ message, committed });
    // Temperature, humidity and battery is all a Shelly H&T sends: no reason to hold the
    // acknowledgements (and the broker's in-flight window) for the rest of the 2 s.
    if (isComplete(w.values)) this.close(w);
  }

  /** Closes every open window now (their messages go to the writer). */
  flush(): void {
    for (const w of [...this.open.values()]) this.close(w);
  }

  /** Flushes and lets later parts through unmerged; idempotent. */
  stop(): void {
    this.flush();
    this.stopped = true;
  }

  private close(w: Window): void {
    if (this.open.get(w.sensorName) !== w) return;
    this.open.delete(w.sensorName);
    this.options.timers.clearTimeout(w.timer);
    const [first, ...rest] = w.held;
    if (!first) return;
    if (hasClimate(w.values)) {
      const reading = readingFromPart(w.values, w.sensorName);
      this.options.submit({ ...first.message, result: { kind: 'reading', reading, decoder: w.decoder } }, first.committed);
      this.options.onReading?.(reading);
    } else {
      const reason = `battery value of ${w.sensorName} without a temperature or humidity within ${this.windowMs / 1000} s`;
      this.options.submit({ ...first.message, result: { kind: 'ignored', reason, decoder: w.decoder } }, first.committed);
    }
    for (const h of rest) this.options.submit({ ...h.message, result: { kind: 'merged', sensorName: w.sensorName, decoder: w.decoder } }, h.committed);
  }
}

function isComplete(v: ReadingPart): boolean {
  return v.temperatureF !== undefined && v.relHumidityPercent !== undefined && (v.battPercent !== undefined || v.battVoltage !== undefined);
}

/** True when the new part brings a value the window already has: the device's next round. */
function repeats(values: ReadingPart, part: ReadingPart): boolean {
  for (const key of Object.keys(part) as Array<keyof ReadingPart>) if (values[key] !== undefined) return true;
  return false;
}
