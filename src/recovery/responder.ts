// The answering role (--serve-recovery): a recovery_data_request from another node is answered
// with our readings from its window (plus the tolerance on each side), in recovery_data messages
// of at most 5 000 entries / 256 KiB, published at QoS 1 one after another. The readings are read
// through a read-only connection of our own, one sensor page at a time, yielding between pages, so
// the writer is never held up. Each request (its id and time) is answered once: it is recorded
// in recovery_answers before it is acknowledged, and an answer cut short by a stop or a crash is
// given again, whole, after the next start.
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../logging/types.js';
import type { InboundMessage } from '../mqtt/listener.js';
import type { LastReading } from '../store/sensor-queries.js';
import { formatMicrosUTC } from '../store/time.js';
import type { Timers } from '../timers.js';
import { isoUTC, MAX_ANSWER_BYTES, MAX_ANSWER_ENTRIES, parseRequest, READINGS_KEY, type RecoveryRequest } from './messages.js';

export interface RecoveryResponderOptions {
  dbFile: string;
  nodeId: string;
  dataTopic: string;
  toleranceMs: number;
  maxWindowMs: number;
  /** The writer's connection: recovery_answers lives there. */
  database: () => BetterSqlite3.Database;
  /** Publishes at QoS 1; resolves on PUBACK. */
  publish: (topic: string, payload: string) => Promise<void>;
  rejectMessage: (message: InboundMessage, reason: string, committed: () => void) => boolean;
  timers: Timers;
  log: Logger;
  /** Rows read per query (one sensor at a time). */
  pageRows?: number;
  /** Bytes per answer message (tests make it small). */
  maxAnswerBytes?: number;
}

type Row = LastReading;

/** Answers older than this are forgotten (a request is only ever repeated soon after). */
const KEEP_ANSWERS_DAYS = 90;

export class RecoveryResponder {
  private reader: BetterSqlite3.Database | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly inProgress = new Set<string>();
  readonly totals = { requests: 0, answered: 0, readingsSent: 0, messagesSent: 0, repeated: 0, rejected: 0 };

  constructor(private readonly options: RecoveryResponderOptions) {}

  /** Opens the read-only side and resumes answers a stop or crash cut short. */
  start(): void {
    if (this.reader) return;
    this.stopped = false;
    this.reader = new Database(this.options.dbFile, { readonly: true, fileMustExist: true });
    const db = this.options.database();
    db.prepare(`DELETE FROM recovery_answers WHERE receivedUTC < ?`).run(formatMicrosUTC((this.options.timers.now() - KEEP_ANSWERS_DAYS * 86_400_000) * 1000));
    const unfinished = db.prepare('SELECT request FROM recovery_answers WHERE answeredUTC IS NULL ORDER BY receivedUTC').pluck().all() as string[];
    for (const text of unfinished) {
      const request = parseRequest(Buffer.from(text));
      if (typeof request !== 'string') this.enqueue(request, 'again (cut short before)');
    }
  }

  /**
   * Ends answering: an answer in progress stops at its next step (it may wait on a PUBACK that
   * never comes) and is given again after the next start. Queries run synchronously, so none is
   * running now and the read-only side can close at once.
   */
  stop(): void {
    this.stopped = true;
    this.reader?.close();
    this.reader = undefined;
  }

  accept(m: InboundMessage, committed: () => void): boolean {
    const o = this.options;
    const request = parseRequest(m.payload);
    if (typeof request === 'string') {
      this.totals.rejected++;
      o.log.warn(`rejected a message on ${m.topic}: ${request}`);
      return o.rejectMessage(m, request, committed);
    }
    if (request.id === o.nodeId) {
      committed(); // our own request
      return true;
    }
    this.totals.requests++;
    const db = o.database();
    if (this.inProgress.has(request.key) || db.prepare('SELECT 1 FROM recovery_answers WHERE requestKey = ?').get(request.key) !== undefined) {
      this.totals.repeated++;
      o.log.info(`recovery request from ${request.id} at ${request.time} was answered already; not answering it again`);
      committed();
      return true;
    }
    try {
      db.prepare('INSERT INTO recovery_answers (requestKey, request, receivedUTC) VALUES (?, ?, ?)').run(
        request.key,
        Buffer.from(m.payload).toString('utf8'),
        formatMicrosUTC(o.timers.now() * 1000),
      );
    } catch (err) {
      // Not recorded, so not acknowledged: the broker sends the request again.
      o.log.error(`cannot record the recovery request from ${request.id}: ${(err as Error).message}`);
      return true;
    }
    committed();
    this.enqueue(request, '');
    return true;
  }

  private enqueue(request: RecoveryRequest, note: string): void {
    this.inProgress.add(request.key);
    this.chain = this.chain
      .then(() => this.answer(request, note))
      .catch((err: Error) => {
        this.options.log.error(`answering the recovery request from ${request.id} failed (given again after the next start): ${err.message}`);
      })
      .finally(() => this.inProgress.delete(request.key));
  }

  private async answer(request: RecoveryRequest, note: string): Promise<void> {
    if (this.stopped || !this.reader) return;
    const o = this.options;
    const capped = request.restoredMs - request.lostMs > o.maxWindowMs;
    const lostMs = capped ? request.restoredMs - o.maxWindowMs : request.lostMs;
    const from = formatMicrosUTC((lostMs - o.toleranceMs) * 1000);
    const to = formatMicrosUTC((request.restoredMs + o.toleranceMs) * 1000);
    o.log.info(
      `answering ${note ? `${note} ` : ''}the recovery request from ${request.id}: readings ${from} … ${to} UTC${capped ? ` (window capped to --recovery-max-window; asked from ${isoUTC(request.lostMs)})` : ''}`,
    );
    const head: Record<string, unknown> = {
      id: request.id,
      entity: o.nodeId,
      request_time: request.time,
      lost_connection_time: isoUTC(lostMs),
      restored_connection_time: isoUTC(request.restoredMs),
    };
    if (capped) {
      head['window_capped'] = true;
      head['requested_lost_connection_time'] = isoUTC(request.lostMs);
    }
    const maxBytes = o.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    let part = 0;
    let entries: string[] = [];
    let bytes = 0;
    let sent = 0;
    const envelope = (last: boolean): string =>
      `${JSON.stringify({ ...head, part: part + 1, last }).slice(0, -1)},"recovery_data":{"${READINGS_KEY}":[${entries.join(',')}]}}`;
    const overhead = Buffer.byteLength(envelope(false)) + 64;
    const publish = async (last: boolean): Promise<void> => {
      await o.publish(o.dataTopic, envelope(last));
      part++;
      sent += entries.length;
      entries = [];
      bytes = 0;
    };
    for (const sensor of this.sensors()) {
      let after = formatMicrosUTC((lostMs - o.toleranceMs) * 1000 - 1);
      for (;;) {
        if (this.stopped || !this.reader) return;
        const rows = this.page(sensor, after, to);
        for (const r of rows) {
          const text = JSON.stringify({ sensorName: sensor, ...r });
          const size = Buffer.byteLength(text) + 1;
          if (entries.length > 0 && (entries.length >= MAX_ANSWER_ENTRIES || overhead + bytes + size > maxBytes)) await publish(false);
          entries.push(text);
          bytes += size;
        }
        // Let the listener's own messages through between two pages.
        await new Promise((resolve) => setImmediate(resolve));
        if (rows.length < (o.pageRows ?? 1000)) break;
        after = rows[rows.length - 1]!.recordWrittenUTC;
      }
    }
    if (this.stopped) return;
    await publish(true);
    if (this.stopped) return;
    this.totals.answered++;
    this.totals.readingsSent += sent;
    this.totals.messagesSent += part;
    o.database().prepare('UPDATE recovery_answers SET answeredUTC = ?, readings = ? WHERE requestKey = ?').run(formatMicrosUTC(o.timers.now() * 1000), sent, request.key);
    o.log.info(`answered the recovery request from ${request.id}: ${sent} reading(s) in ${part} message(s) on ${o.dataTopic}`);
  }

  /** Sensor names in order, one index seek each (no scan of the whole table). */
  private *sensors(): Generator<string> {
    let last = '';
    for (;;) {
      if (!this.reader) return;
      const next = this.reader.prepare('SELECT MIN(sensorName) FROM ECCTempHum WHERE sensorName > ?').pluck().get(last) as string | null;
      if (next === null || next === undefined) return;
      yield next;
      last = next;
    }
  }

  private page(sensor: string, after: string, to: string): Row[] {
    return this.reader!.prepare(
      `SELECT recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage, battPercent, apRSSI FROM ECCTempHum
        WHERE sensorName = ? AND recordWrittenUTC > ? AND recordWrittenUTC <= ? ORDER BY recordWrittenUTC LIMIT ?`,
    ).all(sensor, after, to, this.options.pageRows ?? 1000) as Row[];
  }
}
