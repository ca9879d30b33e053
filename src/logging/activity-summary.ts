// --log-level info (and debug): every 10 minutes one line — readings stored, sensors seen,
// messages rejected — so a console or journal shows the listener is alive and working even when
// nothing goes wrong. Fed by the writer's commit report; the clock is injected (tests).
import type { BatchOutcome, IncomingMessage } from '../store/reading-store.js';
import type { Timers } from '../timers.js';
import type { Logger } from './types.js';

export const SUMMARY_EVERY_MS = 10 * 60_000;

export interface ActivitySummaryOptions {
  log: Logger;
  timers: Timers;
  everyMs?: number;
}

export class ActivitySummary {
  private stored = 0;
  private rejected = 0;
  private duplicates = 0;
  private readonly sensors = new Set<string>();
  private timer: unknown;
  private readonly everyMs: number;

  constructor(private readonly options: ActivitySummaryOptions) {
    this.everyMs = options.everyMs ?? SUMMARY_EVERY_MS;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.options.timers.setInterval(() => this.report(), this.everyMs);
  }

  stop(): void {
    if (this.timer === undefined) return;
    this.options.timers.clearInterval(this.timer);
    this.timer = undefined;
  }

  noteBatch(outcome: BatchOutcome, items: readonly IncomingMessage[]): void {
    this.stored += outcome.stored;
    this.rejected += outcome.rejected;
    this.duplicates += outcome.duplicates;
    if (outcome.stored === 0) return;
    for (const m of items) if (m.result.kind === 'reading') this.sensors.add(m.result.reading.sensorName);
  }

  private report(): void {
    const minutes = Math.round(this.everyMs / 60_000);
    const dup = this.duplicates > 0 ? `, ${this.duplicates} redelivered duplicate(s) skipped` : '';
    this.options.log.info(
      `last ${minutes} min: ${this.stored} reading(s) stored from ${this.sensors.size} sensor(s), ${this.rejected} message(s) rejected${dup}`,
    );
    this.stored = 0;
    this.rejected = 0;
    this.duplicates = 0;
    this.sensors.clear();
  }
}
