// The SQLite side of the write path: opens (or creates) the database in the original's schema and
// commits a batch of decoded messages in one transaction. It knows nothing about MQTT: callers
// acknowledge messages only after writeBatch() has returned.
import * as crypto from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { DecodeResult, Reading } from '../decoders/index.js';
import { hasClimate, readingFromPart } from '../decoders/measurements.js';
import { ensureSchema } from './schema.js';
import { formatMicrosUTC } from './time.js';

export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  receivedMicros: number;
  /** MQTT packet id for QoS 1/2, used to recognise redeliveries. */
  packetId?: number;
  /** MQTT DUP flag: the broker says it may have sent this packet before. */
  dup: boolean;
  /** QoS 2: committing the row also removes the message from qos2_incoming. */
  qos?: 0 | 1 | 2;
  result: DecodeResult;
}

/** A QoS 2 message kept in qos2_incoming between PUBREC and the commit of its row. */
export interface HeldQos2Message {
  packetId: number;
  topic: string;
  payload: Buffer;
  receivedMicros: number;
  dup: boolean;
  retain: boolean;
}

interface HeldQos2Row {
  packetId: number;
  topic: string;
  payload: Buffer;
  receivedMicros: number;
  dup: number;
  retain: number;
}

const SELECT_HELD = 'SELECT packetId, topic, payload, receivedMicros, dup, retain FROM qos2_incoming';

function fromRow(r: HeldQos2Row): HeldQos2Message {
  return { packetId: r.packetId, topic: r.topic, payload: r.payload, receivedMicros: r.receivedMicros, dup: r.dup === 1, retain: r.retain === 1 };
}

export interface BatchOutcome {
  stored: number;
  rejected: number;
  duplicates: number;
  /** Recognised messages without a reading (availability, bridge, discovery ...): not stored. */
  ignored: number;
  sensorRows: number;
  /** Name of the last sensor stored in this batch, if any. */
  lastSensor?: string;
  /** The messages counted in `duplicates` (set only when there are any: the debug log names them). */
  duplicateItems?: IncomingMessage[];
}

export interface ReadingStoreOptions {
  /** synchronous=FULL: every commit survives power loss (slower). */
  durable?: boolean;
  busyTimeoutMs?: number;
}

interface SensorMeta {
  location: string | null;
  mac: string | null;
  version: string | null;
}

const MAX_REJECT_PAYLOAD = 4096;
/**
 * The delivery ledger keeps (packet id, digest) of the last committed batches, one row per batch
 * (not per message: that doubled the write cost). A redelivery concerns a message committed just
 * before a connection dropped, so the last 2000 batches are far more than enough.
 */
const LEDGER_KEEP_BATCHES = 2000;
const MAX_PK_BUMPS = 10_000;

// crypto.hash (Node >= 20.12) is the one-shot form: same digest, less per-call overhead.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'base64') => string }).hash;
const topicPrefixes = new Map<string, Buffer>();

export function messageDigest(topic: string, payload: Uint8Array): string {
  if (!oneShotHash) return crypto.createHash('sha1').update(topic).update('\0').update(payload).digest('base64');
  let prefix = topicPrefixes.get(topic);
  if (!prefix) {
    prefix = Buffer.from(`${topic}\0`);
    if (topicPrefixes.size < 1000) topicPrefixes.set(topic, prefix);
  }
  return oneShotHash('sha1', Buffer.concat([prefix, payload], prefix.length + payload.length), 'base64');
}

export function rejectPayload(payload: Uint8Array): { text: string; encoding: 'utf8' | 'hex' } {
  const head = payload.subarray(0, MAX_REJECT_PAYLOAD);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(head), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(head).toString('hex'), encoding: 'hex' };
  }
}

export class ReadingStore {
  private db: BetterSqlite3.Database | undefined;
  private statements:
    | {
        insertReading: BetterSqlite3.Statement;
        insertSensor: BetterSqlite3.Statement;
        insertReject: BetterSqlite3.Statement;
        ledgerPut: BetterSqlite3.Statement;
        ledgerPrune: BetterSqlite3.Statement;
        incomingPut: BetterSqlite3.Statement;
        incomingGet: BetterSqlite3.Statement;
        incomingDelete: BetterSqlite3.Statement;
      }
    | undefined;
  private writeTx: ((items: readonly IncomingMessage[]) => BatchOutcome) | undefined;
  private putIncomingTx: ((messages: readonly HeldQos2Message[]) => void) | undefined;
  /** Last committed metadata per sensor (for "changed since last time"). */
  private sensorMeta = new Map<string, SensorMeta>();
  /** Last committed receive time per sensor, to keep (sensorName, recordWrittenUTC) unique. */
  private lastMicros = new Map<string, number>();
  private readonly stagedMeta = new Map<string, SensorMeta>();
  private readonly stagedMicros = new Map<string, number>();
  /** packet id -> digest of the latest committed QoS 1/2 message with that id (recent batches). */
  private readonly deliveries = new Map<number, string>();
  private readonly stagedDeliveries = new Map<number, string>();
  private batchesSincePrune = 0;

  constructor(
    readonly path: string,
    private readonly options: ReadingStoreOptions = {},
  ) {}

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  get database(): BetterSqlite3.Database {
    if (!this.db) throw new Error('ReadingStore is not open');
    return this.db;
  }

  open(): void {
    if (this.db) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.durable ? 'FULL' : 'NORMAL'}`);
      db.pragma(`busy_timeout = ${this.options.busyTimeoutMs ?? 250}`);
      // 4 MiB of page cache instead of better-sqlite3's 16: appends touch only the right-hand
      // pages of each index, and the bench shows no CPU cost, while RSS drops (npm run bench).
      db.pragma('cache_size = -4096');
      ensureSchema(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.statements = {
      insertReading: db.prepare(
        `INSERT OR IGNORE INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent,
           battVoltage, battPercent, apRSSI, sensorName) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertSensor: db.prepare(
        `INSERT OR IGNORE INTO ECCTempHumSensor (recordWrittenUTC, sensorName, location, MACaddress, softwareVersion)
           VALUES (?, ?, ?, ?, ?)`,
      ),
      insertReject: db.prepare(
        `INSERT INTO rejected_messages (receivedUTC, topic, payload, payloadEncoding, payloadBytes, reason)
           VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      ledgerPut: db.prepare('INSERT INTO delivery_ledger (committedUTC, entries) VALUES (?, ?)'),
      ledgerPrune: db.prepare(`DELETE FROM delivery_ledger WHERE batchId <= (SELECT MAX(batchId) FROM delivery_ledger) - ${LEDGER_KEEP_BATCHES}`),
      incomingPut: db.prepare(
        'INSERT OR REPLACE INTO qos2_incoming (packetId, topic, payload, receivedMicros, dup, retain) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      incomingGet: db.prepare(`${SELECT_HELD} WHERE packetId = ?`),
      incomingDelete: db.prepare('DELETE FROM qos2_incoming WHERE packetId = ?'),
    };
    this.putIncomingTx = db.transaction((messages: readonly HeldQos2Message[]) => {
      for (const m of messages) {
        this.statements!.incomingPut.run(m.packetId, m.topic, m.payload, m.receivedMicros, m.dup ? 1 : 0, m.retain ? 1 : 0);
      }
    });
    this.loadSensorMeta(db);
    this.loadDeliveries(db);
    this.writeTx = db.transaction((items: readonly IncomingMessage[]) => this.writeItems(items));
  }

  close(): void {
    if (!this.db) return;
    try {
      this.db.close();
    } finally {
      this.db = undefined;
      this.statements = undefined;
      this.writeTx = undefined;
      this.putIncomingTx = undefined;
    }
  }

  /**
   * Commits every message of the batch in one transaction, or throws and commits none of them
   * (SQLITE_FULL, SQLITE_BUSY ...). In-memory caches change only when the commit succeeded.
   */
  writeBatch(items: readonly IncomingMessage[]): BatchOutcome {
    if (!this.writeTx) throw new Error('ReadingStore is not open');
    // Changes made inside the transaction are staged and applied only after COMMIT.
    this.stagedMeta.clear();
    this.stagedMicros.clear();
    this.stagedDeliveries.clear();
    try {
      const outcome = this.writeTx(items);
      for (const [k, v] of this.stagedMeta) this.sensorMeta.set(k, v);
      for (const [k, v] of this.stagedMicros) this.lastMicros.set(k, v);
      for (const [k, v] of this.stagedDeliveries) this.deliveries.set(k, v);
      return outcome;
    } finally {
      this.stagedMeta.clear();
      this.stagedMicros.clear();
      this.stagedDeliveries.clear();
    }
  }

  /**
   * QoS 2 messages about to be acknowledged with PUBREC, committed in one transaction (throws on
   * failure: then no PUBREC may be sent). They stay until their row is committed by writeBatch().
   */
  holdQos2(messages: readonly HeldQos2Message[]): void {
    if (!this.putIncomingTx) throw new Error('ReadingStore is not open');
    this.putIncomingTx(messages);
  }

  /** A held QoS 2 message by packet id (the broker's PUBREL asks for it). */
  heldQos2(packetId: number): HeldQos2Message | undefined {
    const row = this.statements?.incomingGet.get(packetId) as HeldQos2Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Every held QoS 2 message: after a restart, those acknowledged (PUBREC) but never stored. */
  allHeldQos2(): HeldQos2Message[] {
    const rows = this.database.prepare(`${SELECT_HELD} ORDER BY receivedMicros`).all() as HeldQos2Row[];
    return rows.map(fromRow);
  }

  /** Latest metadata per sensor, e.g. to carry into a fresh database after an archive. */
  get knownSensorMeta(): ReadonlyMap<string, Readonly<SensorMeta>> {
    return this.sensorMeta;
  }

  private loadSensorMeta(db: BetterSqlite3.Database): void {
    const rows = db
      .prepare(
        `SELECT s.sensorName AS name, s.location AS location, s.MACaddress AS mac, s.softwareVersion AS version
           FROM ECCTempHumSensor s
           JOIN (SELECT sensorName, MAX(recordWrittenUTC) AS last FROM ECCTempHumSensor GROUP BY sensorName) l
             ON l.sensorName = s.sensorName AND l.last = s.recordWrittenUTC`,
      )
      .all() as Array<{ name: string; location: string | null; mac: string | null; version: string | null }>;
    this.sensorMeta.clear();
    for (const r of rows) this.sensorMeta.set(r.name, { location: r.location, mac: r.mac, version: r.version });
  }

  private loadDeliveries(db: BetterSqlite3.Database): void {
    this.deliveries.clear();
    // Row by row: after a busy period the ledger holds up to 2000 batches of ~1000 entries, and
    // loading them all at once put a ~100 MB spike on the start-up RSS (npm run bench).
    const rows = db.prepare('SELECT entries FROM delivery_ledger ORDER BY batchId').pluck().iterate() as IterableIterator<string>;
    for (const entries of rows) {
      try {
        for (const [id, digest] of JSON.parse(entries) as Array<[number, string]>) this.deliveries.set(id, digest);
      } catch {
        /* a damaged ledger row only weakens duplicate suppression for that batch */
      }
    }
  }

  private writeItems(items: readonly IncomingMessage[]): BatchOutcome {
    const st = this.statements!;
    const outcome: BatchOutcome = { stored: 0, rejected: 0, duplicates: 0, ignored: 0, sensorRows: 0 };
    const ledgerEntries: Array<[number, string]> = [];
    for (const item of items) {
      if (item.qos === 2 && item.packetId !== undefined) st.incomingDelete.run(item.packetId);
      if (item.packetId !== undefined) {
        const digest = messageDigest(item.topic, item.payload);
        // A redelivery (DUP) of a packet whose row we already committed: acknowledge, store nothing.
        if (item.dup && (this.stagedDeliveries.get(item.packetId) ?? this.deliveries.get(item.packetId)) === digest) {
          outcome.duplicates++;
          (outcome.duplicateItems ??= []).push(item);
          continue;
        }
        this.stagedDeliveries.set(item.packetId, digest);
        ledgerEntries.push([item.packetId, digest]);
      }
      const receivedText = formatMicrosUTC(item.receivedMicros);
      if (item.result.kind === 'rejection') {
        const p = rejectPayload(item.payload);
        st.insertReject.run(receivedText, item.topic, p.text, p.encoding, item.payload.length, item.result.reason);
        outcome.rejected++;
        continue;
      }
      if (item.result.kind !== 'reading') {
        for (const r of otherReadings(item.result, outcome)) this.storeReading(r, item.receivedMicros, outcome);
        continue;
      }
      this.storeReading(item.result.reading, item.receivedMicros, outcome);
    }
    if (ledgerEntries.length > 0) {
      st.ledgerPut.run(formatMicrosUTC(Date.now() * 1000), JSON.stringify(ledgerEntries));
      if (++this.batchesSincePrune >= 100) {
        this.batchesSincePrune = 0;
        st.ledgerPrune.run();
      }
    }
    return outcome;
  }

  private storeReading(r: Reading, receivedMicros: number, outcome: BatchOutcome): void {
    const st = this.statements!;
    const micros = this.insertReading(r, receivedMicros);
    outcome.stored++;
    outcome.lastSensor = r.sensorName;
    if (this.sensorChanged(r)) {
      st.insertSensor.run(formatMicrosUTC(micros), r.sensorName, r.location ?? null, r.macAddress ?? null, r.softwareVersion ?? null);
      this.stagedMeta.set(r.sensorName, {
        location: r.location ?? null,
        mac: r.macAddress ?? null,
        version: r.softwareVersion ?? null,
      });
      outcome.sensorRows++;
    }
  }

  /** Inserts with the receive time, bumped by 1 µs while the primary key is taken. */
  private insertReading(r: Reading, receivedMicros: number): number {
    const st = this.statements!;
    const last = this.stagedMicros.get(r.sensorName) ?? this.lastMicros.get(r.sensorName) ?? -1;
    let micros = Math.max(receivedMicros, last + 1);
    for (let i = 0; i < MAX_PK_BUMPS; i++, micros++) {
      const info = st.insertReading.run(
        formatMicrosUTC(micros),
        r.dewPointF,
        r.temperatureF,
        r.relHumidityPercent,
        r.battVoltage,
        r.battPercent,
        r.apRSSI,
        r.sensorName,
      );
      if (info.changes === 1) {
        this.stagedMicros.set(r.sensorName, micros);
        return micros;
      }
    }
    throw new Error(`could not find a free timestamp for sensor ${r.sensorName}`);
  }

  private sensorChanged(r: Reading): boolean {
    if (r.location === undefined && r.macAddress === undefined && r.softwareVersion === undefined) return false;
    const last = this.stagedMeta.get(r.sensorName) ?? this.sensorMeta.get(r.sensorName);
    if (!last) return true;
    return (
      last.location !== (r.location ?? null) || last.mac !== (r.macAddress ?? null) || last.version !== (r.softwareVersion ?? null)
    );
  }
}

const NO_READINGS: readonly Reading[] = [];

/**
 * The rows of a message that is not the single-reading case: several readings (one Tasmota
 * message), none (ignored, or merged into another message's row), or a part that reached the
 * store unmerged (a held QoS 2 message stored at start) and stands as its own row.
 */
export function otherReadings(result: Exclude<DecodeResult, { kind: 'reading' | 'rejection' }>, outcome: BatchOutcome): readonly Reading[] {
  if (result.kind === 'readings') return result.readings;
  if (result.kind === 'part' && hasClimate(result.part)) return [readingFromPart(result.part, result.sensorName)];
  if (result.kind !== 'merged') outcome.ignored++;
  return NO_READINGS;
}
