// The HTTP API's own read-only SQLite connection: WAL lets it read beside the writer without ever
// blocking a commit. Everything here is an index seek or a range scan on the primary key
// (sensorName, recordWrittenUTC); the sensor list reuses SensorQueries (shared with `status`).
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { READINGS_TABLE } from '../store/schema.js';
import { SensorQueries, type LastReading } from '../store/sensor-queries.js';

export interface ReadingRow {
  recordWrittenUTC: string;
  temperatureF: number | null;
  relHumidityPercent: number | null;
  dewPointF: number | null;
  battVoltage: number | null;
  battPercent: number | null;
  apRSSI: number | null;
}

/** Columns aggregated per bucket (temperatureC is derived from temperatureF: the map is linear). */
export const BUCKET_FIELDS = ['temperatureF', 'relHumidityPercent', 'dewPointF', 'battVoltage', 'battPercent', 'apRSSI'] as const;
export type BucketField = (typeof BUCKET_FIELDS)[number];

export interface BucketRow {
  bucket: number;
  count: number;
  /** `${field}_min`, `${field}_max`, `${field}_mean` for every BUCKET_FIELDS entry. */
  [column: string]: number | null;
}

const COLUMNS = 'recordWrittenUTC, temperatureF, relHumidityPercent, dewPointF, battVoltage, battPercent, apRSSI';

export class SensorReader {
  private db: BetterSqlite3.Database | undefined;
  private q: SensorQueries | undefined;
  private st:
    | { asc: BetterSqlite3.Statement; desc: BetterSqlite3.Statement; range: BetterSqlite3.Statement; buckets: BetterSqlite3.Statement }
    | undefined;

  constructor(readonly dbFile: string) {}

  /** Opens the connection; the writer must have created the database first. */
  open(): void {
    if (this.db) return;
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    this.q = new SensorQueries(db);
    const where = `FROM ${READINGS_TABLE} WHERE sensorName = ? AND recordWrittenUTC >= ? AND recordWrittenUTC <= ?`;
    const aggregates = BUCKET_FIELDS.map((f) => `MIN(${f}) AS ${f}_min, MAX(${f}) AS ${f}_max, AVG(${f}) AS ${f}_mean`).join(', ');
    this.st = {
      asc: db.prepare(`SELECT ${COLUMNS} ${where} ORDER BY recordWrittenUTC LIMIT ?`),
      desc: db.prepare(`SELECT ${COLUMNS} ${where} ORDER BY recordWrittenUTC DESC LIMIT ?`),
      range: db.prepare(`SELECT MIN(recordWrittenUTC) AS first, MAX(recordWrittenUTC) AS last, COUNT(*) AS n ${where}`),
      // unixepoch() reads the stored 'YYYY-MM-DD HH:MM:SS.ffffff' text; whole seconds are enough for
      // buckets. JS numbers bind as REAL: the casts keep the division an integer one.
      buckets: db.prepare(`SELECT (unixepoch(recordWrittenUTC) - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS bucket, COUNT(*) AS count, ${aggregates} ${where} GROUP BY bucket ORDER BY bucket`),
    };
    this.db = db;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.q = undefined;
    this.st = undefined;
  }

  private get queries(): SensorQueries {
    if (!this.q) throw new Error('SensorReader is not open');
    return this.q;
  }

  /** Every sensor's last reading and location (one statement: see SensorQueries). */
  everyLastReading(): ReturnType<SensorQueries['everyLastReading']> {
    return this.queries.everyLastReading();
  }

  lastReading(name: string): LastReading | undefined {
    return this.queries.lastReading(name);
  }

  locationOf(name: string): string | null {
    return this.queries.locationOf(name);
  }

  /** Up to `limit` readings in [from, to] (stored-format bounds), oldest first; `latest` takes the newest ones. */
  readings(name: string, from: string, to: string, limit: number, latest: boolean): ReadingRow[] {
    const rows = (latest ? this.st!.desc : this.st!.asc).all(name, from, to, limit) as ReadingRow[];
    return latest ? rows.reverse() : rows;
  }

  range(name: string, from: string, to: string): { first: string | null; last: string | null; n: number } {
    return this.st!.range.get(name, from, to) as { first: string | null; last: string | null; n: number };
  }

  /** Per bucket of `widthSeconds` from `startEpochSeconds`: count and min/max/mean of every field. */
  buckets(name: string, from: string, to: string, startEpochSeconds: number, widthSeconds: number): BucketRow[] {
    return this.st!.buckets.all(startEpochSeconds, widthSeconds, name, from, to) as BucketRow[];
  }
}
