// The requesting role (--recovery): when the broker connection comes back (or the listener starts)
// after an outage of at least --recovery-min-outage, asks at QoS 1 for the readings of that window
// on --recovery-request-topic. A request nobody answers (the answering node was not subscribed
// yet, e.g. after a broker restart that lost its sessions) is asked again, with a new time, a few
// times. With --announce-topic it also says "reconnect" on every connection, and leaves a
// "disconnect" message as its MQTT Last Will, which the broker publishes when it loses us — the
// one announcement the listener itself cannot make.
import type { Logger } from '../logging/types.js';
import type { WillMessage } from '../mqtt/listener.js';
import type { Timers } from '../timers.js';
import { connectionStatusMessage, isoUTC, requestMessage } from './messages.js';
import type { RecoveryConfig } from './options.js';
import type { Outage } from './outage-log.js';

export interface RecoveryRequesterOptions {
  config: RecoveryConfig;
  /** Publishes at QoS 1; resolves on PUBACK. */
  publish: (topic: string, payload: string) => Promise<void>;
  timers: Timers;
  log: Logger;
  /** How long to wait for an answer before asking again (default 2 min). */
  answerTimeoutMs?: number;
  /** Requests per outage at most (default 3). */
  maxAttempts?: number;
  /** Start of the oldest outage asked about and not answered yet (undefined: all answered or given up). */
  onUnrecovered?: (sinceMs: number | undefined) => void;
}

interface Pending {
  outage: Outage;
  attempt: number;
  timer: unknown;
}

export class RecoveryRequester {
  /** Unanswered requests by their `time`. */
  private readonly pending = new Map<string, Pending>();
  readonly totals = { requests: 0, shortOutages: 0, unanswered: 0 };

  constructor(private readonly options: RecoveryRequesterOptions) {}

  /** The Last Will for the next connection, if announcing. */
  will(): WillMessage | undefined {
    const c = this.options.config;
    if (c.announceTopic === undefined) return undefined;
    return { topic: c.announceTopic, payload: connectionStatusMessage('disconnect', c.nodeId, this.options.timers.now()), qos: 1, retain: false };
  }

  /** Every connection: announce it (if asked to). */
  connected(): void {
    const c = this.options.config;
    if (c.announceTopic === undefined) return;
    this.send(c.announceTopic, connectionStatusMessage('reconnect', c.nodeId, this.options.timers.now()), 'connection status');
  }

  /** A connection that ended an outage: ask for its readings if it was long enough. */
  restored(outage: Outage): void {
    const c = this.options.config;
    if (!c.request) return;
    const seconds = ((outage.restoredMs - outage.lostMs) / 1000).toFixed(1);
    if (outage.restoredMs - outage.lostMs < c.minOutageMs) {
      this.totals.shortOutages++;
      this.options.log.info(`outage of ${seconds} s is shorter than --recovery-min-outage: no recovery request`);
      return;
    }
    this.options.log.info(`asking for the readings of the ${seconds} s outage (${isoUTC(outage.lostMs)} … ${isoUTC(outage.restoredMs)}) on ${c.requestTopic}`);
    this.ask(outage, 1);
  }

  /** An answer arrived; without a request time (another node's format) it settles every request. */
  answered(requestTime: string | undefined): void {
    for (const [time, p] of this.pending) {
      if (requestTime !== undefined && time !== requestTime) continue;
      this.options.timers.clearTimeout(p.timer);
      this.pending.delete(time);
    }
    this.reportUnrecovered();
  }

  /** Stops asking; what is unanswered stays marked in the outage log for the next start. */
  stop(): void {
    for (const p of this.pending.values()) this.options.timers.clearTimeout(p.timer);
    this.pending.clear();
  }

  private reportUnrecovered(): void {
    let oldest: number | undefined;
    for (const p of this.pending.values()) oldest = oldest === undefined ? p.outage.lostMs : Math.min(oldest, p.outage.lostMs);
    this.options.onUnrecovered?.(oldest);
  }

  private ask(outage: Outage, attempt: number): void {
    const o = this.options;
    const c = o.config;
    const now = o.timers.now();
    const time = isoUTC(now);
    this.totals.requests++;
    this.send(c.requestTopic, requestMessage(c.nodeId, now, outage.lostMs, outage.restoredMs), 'recovery request');
    const timer = o.timers.setTimeout(() => {
      this.pending.delete(time);
      if (attempt < (o.maxAttempts ?? 3)) {
        o.log.warn(`no answer to the recovery request of ${time}; asking again (attempt ${attempt + 1})`);
        this.ask(outage, attempt + 1);
      } else {
        this.totals.unanswered++;
        o.log.warn(
          `no node answered the recovery request for ${isoUTC(outage.lostMs)} … ${isoUTC(outage.restoredMs)} after ${attempt} attempts: ` +
            'readings of that window may be missing (is a listener with --serve-recovery on the same topics?)',
        );
        this.reportUnrecovered();
      }
    }, o.answerTimeoutMs ?? 120_000);
    this.pending.set(time, { outage, attempt, timer });
    this.reportUnrecovered();
  }

  private send(topic: string, payload: string, what: string): void {
    this.options.publish(topic, payload).catch((err: Error) => this.options.log.warn(`${what} on ${topic} not sent: ${err.message}`));
  }
}
