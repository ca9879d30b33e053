// Ingests recovery_data messages addressed to this node: checks the envelope (malformed or
// oversized messages go to rejected_messages whole), decodes each entry — a stored row, or a raw
// message a gateway buffered, both through the normal decoder chain — and hands the batch to the
// RecoveryStore. The MQTT acknowledgement waits for that commit; a failed commit (disk full,
// database locked) is retried with backoff, in order, and nothing is acknowledged meanwhile.
import { decodePayload, type Reading } from '../decoders/index.js';
import type { Logger } from '../logging/types.js';
import type { InboundMessage } from '../mqtt/listener.js';
import { nowMicros } from '../store/time.js';
import type { Timers } from '../timers.js';
import { parseRecoveryData, parseTimeMicros, READINGS_KEY } from './messages.js';
import type { RecoveredReading, RecoveryBatch, RecoveryOutcome, RecoveryStore, RejectedEntry } from './recovery-store.js';

export interface RecoveryIngesterOptions {
  nodeId: string;
  toleranceMs: number;
  store: RecoveryStore;
  /** Commits the live readings still queued (so duplicates among them are seen); false = not writable now. */
  flushLive: () => boolean;
  /** Keeps a whole rejected message (through the writer); `committed` acknowledges it. */
  rejectMessage: (message: InboundMessage, reason: string, committed: () => void) => boolean;
  timers: Timers;
  log: Logger;
  /** After each committed recovery message (tests, status). */
  onStored?: (outcome: RecoveryOutcome, sourceId: string) => void;
  /** A node answers one of our requests (its `time`, when the answer names it). */
  onAnswer?: (requestTime: string | undefined) => void;
}

interface Pending {
  batch: RecoveryBatch;
  committed: () => void;
}

/** A recovered reading is not older than this (a clock that was never set) … */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
/** … nor further in the future than this. */
const FUTURE_SLACK_MS = 86_400_000;

/**
 * The one place recovery uses the decoder chain, so a change of DecodeResult has one spot to adapt.
 * Returns the reading, or why the payload gave none.
 */
export function decodeForRecovery(topic: string, payload: string): Reading | string {
  const result = decodePayload(topic, Buffer.from(payload, 'utf8'));
  switch (result.kind) {
    case 'reading':
      return result.reading;
    case 'rejection':
      return result.reason;
    default:
      return `the decoder gave no single reading (${(result as { kind: string }).kind})`;
  }
}

const ROW_NUMBERS = ['dewPointF', 'temperatureF', 'relHumidityPercent', 'battVoltage', 'battPercent', 'apRSSI'] as const;

/**
 * A stored row in the payload form of the original firmware, so it is checked by the very same
 * rules (ranges, name length) as a live message.
 */
function rowPayload(e: Record<string, unknown>): string {
  const name = e['sensorName'];
  if (typeof name !== 'string' || name.trim() === '') throw new Error('"sensorName" is not a non-empty string');
  if (/[&=]/.test(name)) throw new Error('"sensorName" contains "&" or "="');
  const fields = ROW_NUMBERS.map((key, i) => {
    const v = e[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`"${key}" is not a number`);
    return `field${i + 1}=${v}`;
  });
  return `${fields.join('&')}&field7=${name}`;
}

export class RecoveryIngester {
  private readonly queue: Pending[] = [];
  private retryTimer: unknown;
  private failures = 0;
  private stopped = false;
  readonly totals = { messages: 0, stored: 0, duplicates: 0, rejectedEntries: 0, rejectedMessages: 0, notForUs: 0 };

  constructor(private readonly options: RecoveryIngesterOptions) {}

  accept(m: InboundMessage, committed: () => void): boolean {
    const o = this.options;
    const data = parseRecoveryData(m.payload);
    if (typeof data === 'string') {
      this.totals.rejectedMessages++;
      o.log.warn(`rejected a message on ${m.topic}: ${data}`);
      return o.rejectMessage(m, data, committed);
    }
    if (data.id !== o.nodeId || data.entity === o.nodeId) {
      // Another node's answer (or our own): not ours to store.
      this.totals.notForUs++;
      o.log.debug(`recovery data for ${JSON.stringify(data.id)} from ${JSON.stringify(data.entity ?? '?')}: not for this node, skipped`);
      committed();
      return true;
    }
    this.totals.messages++;
    o.onAnswer?.(data.requestTime);
    const batch = this.decode(m.topic, data.entity ?? data.id, data.entries);
    this.queue.push({ batch, committed });
    if (this.queue.length === 1 && this.retryTimer === undefined) this.drain();
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.options.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.queue.length = 0; // not acknowledged: the broker sends them again
  }

  private decode(topic: string, sourceId: string, entries: readonly unknown[]): RecoveryBatch {
    const readings: RecoveredReading[] = [];
    const rejects: RejectedEntry[] = [];
    const latest = (this.options.timers.now() + FUTURE_SLACK_MS) * 1000;
    for (const entry of entries) {
      const r = this.decodeEntry(entry, latest);
      if (typeof r === 'string') rejects.push({ text: JSON.stringify(entry) ?? String(entry), reason: `recovery entry from ${sourceId}: ${r}` });
      else readings.push(r);
    }
    return { readings, rejects, sourceId, topic, toleranceMicros: this.options.toleranceMs * 1000, nowMicros: nowMicros(() => this.options.timers.now()) };
  }

  private decodeEntry(entry: unknown, latestMicros: number): RecoveredReading | string {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not an object';
    const e = entry as Record<string, unknown>;
    const raw = typeof e['payload'] === 'string';
    const time = raw ? e['time'] : e['recordWrittenUTC'];
    const micros = parseTimeMicros(time);
    if (micros === undefined) return `"${raw ? 'time' : 'recordWrittenUTC'}" is not a UTC time: ${JSON.stringify(time)?.slice(0, 60)}`;
    if (micros < EARLIEST_MS * 1000 || micros > latestMicros) return `time ${String(time)} is not plausible (before 2000 or in the future)`;
    let decoded: Reading | string;
    if (raw) {
      const topic = typeof e['topic'] === 'string' && e['topic'] !== '' ? e['topic'] : READINGS_KEY;
      decoded = decodeForRecovery(topic, e['payload'] as string);
    } else {
      try {
        decoded = decodeForRecovery(READINGS_KEY, rowPayload(e));
      } catch (err) {
        return (err as Error).message;
      }
    }
    return typeof decoded === 'string' ? decoded : { reading: decoded, micros };
  }

  /** Commits queued recovery messages in order; on failure, retries later. */
  private drain(): void {
    const o = this.options;
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue[0]!;
      let outcome: RecoveryOutcome;
      try {
        if (!o.flushLive()) throw new Error('the live readings before it could not be committed');
        outcome = o.store.store(next.batch);
      } catch (err) {
        this.failures++;
        if (this.failures === 1 || this.failures % 10 === 0) {
          o.log.error(`cannot store recovery data from ${next.batch.sourceId} (attempt ${this.failures}, not acknowledged; retrying): ${(err as Error).message}`);
        }
        const delay = Math.min(10_000, 200 * 2 ** Math.min(this.failures - 1, 10));
        this.retryTimer = o.timers.setTimeout(() => {
          this.retryTimer = undefined;
          this.drain();
        }, delay);
        return;
      }
      this.failures = 0;
      this.queue.shift();
      this.totals.stored += outcome.stored;
      this.totals.duplicates += outcome.duplicates;
      this.totals.rejectedEntries += outcome.rejected;
      next.committed();
      o.log.info(
        `recovery data from ${next.batch.sourceId}: ${outcome.stored} reading(s) stored, ${outcome.duplicates} duplicate(s) skipped, ${outcome.rejected} entr${outcome.rejected === 1 ? 'y' : 'ies'} rejected`,
      );
      o.onStored?.(outcome, next.batch.sourceId);
    }
  }
}
