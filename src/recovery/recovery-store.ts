// Writes recovered readings: each with its own recordWrittenUTC (when the other node received it,
// not when we did), a reading_sources row saying where it came from, and none that we already
// hold — the same (sensorName, recordWrittenUTC), or the same sensor with the same values within
// the tolerance (two listeners stamp one sensor message a few milliseconds apart). One recovery
// message is one transaction on the writer's own connection, so it is acknowledged only once all
// its accepted entries are committed, and its rejected entries are kept in rejected_messages.
import type BetterSqlite3 from 'better-sqlite3';
import type { Reading } from '../decoders/index.js';
import { formatMicrosUTC } from '../store/time.js';

export interface RecoveredReading {
  reading: Reading;
  /** recordWrittenUTC as given by the node that stored or received it. */
  micros: number;
}

export interface RejectedEntry {
  /** The entry as received (JSON text), kept for the user to look at. */
  text: string;
  reason: string;
}

export interface RecoveryBatch {
  readings: readonly RecoveredReading[];
  rejects: readonly RejectedEntry[];
  /** reading_sources.sourceId: the answering node (the message's entity, else its id). */
  sourceId: string;
  topic: string;
  toleranceMicros: number;
  nowMicros: number;
}

export interface RecoveryOutcome {
  stored: number;
  duplicates: number;
  rejected: number;
}

const MAX_KEPT_ENTRY = 4096;

interface Statements {
  similar: BetterSqlite3.Statement;
  insert: BetterSqlite3.Statement;
  source: BetterSqlite3.Statement;
  reject: BetterSqlite3.Statement;
  tx: (batch: RecoveryBatch) => RecoveryOutcome;
}

export class RecoveryStore {
  private db: BetterSqlite3.Database | undefined;
  private st: Statements | undefined;

  constructor(private readonly database: () => BetterSqlite3.Database) {}

  /** Commits the batch in one transaction, or throws and commits nothing of it. */
  store(batch: RecoveryBatch): RecoveryOutcome {
    return this.statements().tx(batch);
  }

  private write(st: Statements, b: RecoveryBatch): RecoveryOutcome {
    const out: RecoveryOutcome = { stored: 0, duplicates: 0, rejected: 0 };
    const now = formatMicrosUTC(b.nowMicros);
    for (const r of b.rejects) {
      st.reject.run(now, b.topic, r.text.slice(0, MAX_KEPT_ENTRY), Buffer.byteLength(r.text), r.reason);
      out.rejected++;
    }
    for (const { reading: r, micros } of b.readings) {
      const values = [r.dewPointF, r.temperatureF, r.relHumidityPercent, r.battVoltage, r.battPercent, r.apRSSI];
      const written = formatMicrosUTC(micros);
      const similar = st.similar.get(r.sensorName, formatMicrosUTC(micros - b.toleranceMicros), formatMicrosUTC(micros + b.toleranceMicros), ...values);
      // INSERT OR IGNORE: the same (sensorName, recordWrittenUTC) is the other kind of duplicate.
      if (similar !== undefined || st.insert.run(written, ...values, r.sensorName).changes === 0) {
        out.duplicates++;
        continue;
      }
      st.source.run(r.sensorName, written, b.sourceId, now);
      out.stored++;
    }
    return out;
  }

  private statements(): Statements {
    const db = this.database();
    if (this.st && this.db === db) return this.st;
    this.db = db;
    const st: Omit<Statements, 'tx'> = {
      similar: db.prepare(
        `SELECT 1 FROM ECCTempHum WHERE sensorName = ? AND recordWrittenUTC >= ? AND recordWrittenUTC <= ?
           AND dewPointF IS ? AND temperatureF IS ? AND relHumidityPercent IS ? AND battVoltage IS ? AND battPercent IS ? AND apRSSI IS ?
         LIMIT 1`,
      ),
      insert: db.prepare(
        `INSERT OR IGNORE INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent,
           battVoltage, battPercent, apRSSI, sensorName) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      source: db.prepare(
        `INSERT OR REPLACE INTO reading_sources (sensorName, recordWrittenUTC, source, sourceId, storedUTC) VALUES (?, ?, 'recovery', ?, ?)`,
      ),
      reject: db.prepare(
        `INSERT INTO rejected_messages (receivedUTC, topic, payload, payloadEncoding, payloadBytes, reason) VALUES (?, ?, ?, 'utf8', ?, ?)`,
      ),
    };
    const full = st as Statements;
    full.tx = db.transaction((batch: RecoveryBatch) => this.write(full, batch));
    this.st = full;
    return full;
  }
}
