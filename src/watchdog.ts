// The watchdog: if no MQTT message arrived for a whole period (-t), it logs why, restarts the MQTT
// side in process (old client ended and closed before a new one connects and resubscribes) and
// raises a "no messages" alert; when messages flow again it logs that and raises "recovered".
// Any message resets the period, undecodable ones too (the broker is alive). It never ends the
// process: a failed restart is logged and tried again the next period.
import type { NoMessagesFacts, RecoveredFacts } from './alerts/alert-text.js';
import { localTime, minutes } from './alerts/alert-text.js';
import type { Logger } from './logging/types.js';
import type { Timers } from './timers.js';

export interface WatchdogOptions {
  periodMs: number;
  timers: Timers;
  log: Logger;
  /** Restarts the MQTT side; resolves once the new client is created. */
  restart: () => Promise<void>;
  onNoMessages?: (facts: NoMessagesFacts) => void;
  onRecovered?: (facts: RecoveredFacts) => void;
}

interface Outage {
  /** Last message before the silence, or the watchdog's start. */
  silentSince: number;
  lastMessageBeforeAt: number | undefined;
  restarts: number;
}

export class Watchdog {
  private timer: unknown;
  private running = false;
  private checking: Promise<void> | undefined;
  private startedAt = 0;
  /** Start of the current period when no message has come since (start or last restart). */
  private periodStart = 0;
  private lastMessageAt: number | undefined;
  private lastReadingAt: number | undefined;
  private rejectedSinceLastReading = 0;
  private outage: Outage | undefined;
  readonly stats = { checks: 0, restarts: 0, failedRestarts: 0, recoveries: 0 };

  constructor(private readonly o: WatchdogOptions) {
    if (!(o.periodMs > 0)) throw new RangeError(`watchdog period must be > 0 ms, got ${o.periodMs}`);
  }

  get inOutage(): boolean {
    return this.outage !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.o.timers.now();
    this.periodStart = this.startedAt;
    this.o.log.info(`watchdog on: the MQTT connection is restarted when no message arrives for ${minutes(this.o.periodMs)} min (-t)`);
    this.schedule(this.o.periodMs);
  }

  /** Stops checking and waits for a restart in progress to finish. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) {
      this.o.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.checking;
  }

  /** Called for every message the listener takes; `decoded` false for rejected payloads. Cheap: on the hot path. */
  noteMessage(decoded: boolean): void {
    const now = this.o.timers.now();
    this.lastMessageAt = now;
    if (decoded) {
      this.lastReadingAt = now;
      this.rejectedSinceLastReading = 0;
    } else {
      this.rejectedSinceLastReading++;
    }
    const outage = this.outage;
    if (outage === undefined || !this.running) return;
    this.outage = undefined;
    this.stats.recoveries++;
    const silentForMs = now - outage.silentSince;
    this.o.log.info(
      `messages arriving again after ${minutes(silentForMs)} min and ${outage.restarts} restart(s)${decoded ? '' : '; the first one could not be decoded'}`,
    );
    const facts: RecoveredFacts = { at: now, outageRestarts: outage.restarts, silentForMs, firstMessageDecoded: decoded };
    if (outage.lastMessageBeforeAt !== undefined) facts.lastMessageBeforeAt = outage.lastMessageBeforeAt;
    this.o.onRecovered?.(facts);
  }

  private schedule(ms: number): void {
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = undefined;
      const run: Promise<void> = this.check()
        .catch((err: unknown) => {
          // Never let a bug in a check end the process; keep watching.
          this.o.log.error(`watchdog check failed: ${(err as Error).stack ?? String(err)}`);
          if (this.running && this.timer === undefined) this.schedule(this.o.periodMs);
        })
        .finally(() => {
          if (this.checking === run) this.checking = undefined;
        });
      this.checking = run;
    }, Math.max(1, ms));
  }

  private async check(): Promise<void> {
    if (!this.running) return;
    this.stats.checks++;
    const now = this.o.timers.now();
    const lastActivity = Math.max(this.periodStart, this.lastMessageAt ?? -Infinity);
    const quietMs = now - lastActivity;
    if (quietMs < this.o.periodMs) {
      // A message came in this period: the period restarts from it.
      this.schedule(this.o.periodMs - quietMs);
      return;
    }
    const silentSince = this.lastMessageAt ?? this.startedAt;
    const silentForMs = now - silentSince;
    this.outage ??= { silentSince, lastMessageBeforeAt: this.lastMessageAt, restarts: 0 };
    const outage = this.outage;
    outage.restarts++;
    const n = ++this.stats.restarts;
    this.o.log.warn(
      `no MQTT message for ${minutes(silentForMs)} min (period ${minutes(this.o.periodMs)} min; last message: ${this.lastMessageAt !== undefined ? localTime(this.lastMessageAt) : 'none since start'}): restarting the MQTT connection (restart #${n})`,
    );
    let restartError: string | undefined;
    try {
      await this.o.restart();
      this.o.log.info(`MQTT connection restarted (restart #${n}): old client closed, new client connecting`);
    } catch (err) {
      restartError = (err as Error).message;
      this.stats.failedRestarts++;
      this.o.log.error(`restart #${n} of the MQTT connection failed: ${restartError}; trying again in ${minutes(this.o.periodMs)} min`);
    }
    if (!this.running) return;
    if (this.outage === outage) {
      const facts: NoMessagesFacts = {
        at: now,
        restartNumber: n,
        outageRestarts: outage.restarts,
        silentForMs,
        rejectedSinceLastReading: this.rejectedSinceLastReading,
      };
      if (this.lastMessageAt !== undefined) facts.lastMessageAt = this.lastMessageAt;
      if (this.lastReadingAt !== undefined) facts.lastReadingAt = this.lastReadingAt;
      if (restartError !== undefined) facts.restartError = restartError;
      this.o.onNoMessages?.(facts);
    }
    this.periodStart = this.o.timers.now();
    this.schedule(this.o.periodMs);
  }
}
