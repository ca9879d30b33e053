// The HTTP API's own read-only SQLite connection: WAL lets it read beside the writer without ever
// blocking a commit. Everything here is an index seek or a range scan on the primary key
// (sensorName, recordWrittenUTC); the sensor list reuses SensorQueries (shared with `status`).
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { READINGS_TABLE } from '../store/schema.js';
import { SensorQueries, type LastReading } from '../store/sensor-queries.js';

/** One stored reading's time and values: the same shape as a sensor's last reading. */
export type ReadingRow = LastReading;

/** Columns aggregated per bucket (temperatureC is derived from temperatureF: the map is linear). */
export const BUCKET_FIELDS = ['temperatureF', 'relHumidityPercent', 'dewPointF', 'battVoltage', 'battPercent', 'apRSSI'] as const;
export type BucketField = (typeof BUCKET_FIELDS)[number];

export interface BucketRow {
  bucket: number;
  count: number;
  /** `${field}_min`, `${field}_max`, `${field}_mean` for every BUCKET_FIELDS entry. */
  [column: string]: number | null;
}

const RANGE_WHERE = `FROM ${READINGS_TABLE} WHERE sensorName = ? AND recordWrittenUTC >= ? AND recordWrittenUTC <= ?`;

function bucketSql(fields: readonly BucketField[]): string {
  const aggregates = fields.map((f) => `, MIN(${f}) AS ${f}_min, MAX(${f}) AS ${f}_max, AVG(${f}) AS ${f}_mean`).join('');
  // unixepoch() reads the stored 'YYYY-MM-DD HH:MM:SS.ffffff' text; whole seconds are enough for
  // buckets. JS numbers bind as REAL: the casts keep the division an integer one.
  return `SELECT (unixepoch(recordWrittenUTC) - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS bucket, COUNT(*) AS count${aggregates} ${RANGE_WHERE} GROUP BY bucket ORDER BY bucket`;
}

const COLUMNS = 'recordWrittenUTC, temperatureF, relHumidityPercent, dewPointF, battVoltage, battPercent, apRSSI';

export class SensorReader {
  private db: BetterSqlite3.Database | undefined;
  private q: SensorQueries | undefined;
  private st:
    | { asc: BetterSqlite3.Statement; nthLatest: BetterSqlite3.Statement; range: BetterSqlite3.Statement; buckets: BetterSqlite3.Statement }
    | undefined;

  private readonly subsets = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly dbFile: string) {}

  /** Opens the connection; the writer must have created the database first. */
  open(): void {
    if (this.db) return;
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    this.q = new SensorQueries(db);
    const where = RANGE_WHERE;
    this.st = {
      asc: db.prepare(`SELECT ${COLUMNS} ${where} ORDER BY recordWrittenUTC LIMIT ?`),
      nthLatest: db.prepare(`SELECT recordWrittenUTC ${where} ORDER BY recordWrittenUTC DESC LIMIT 1 OFFSET ?`).pluck(),
      range: db.prepare(`SELECT MIN(recordWrittenUTC) AS first, MAX(recordWrittenUTC) AS last, COUNT(*) AS n ${where}`),
      buckets: db.prepare(bucketSql(BUCKET_FIELDS)),
    };
    this.db = db;
  }

  close(): void {
    this.subsets.clear();
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


  /**
   * Hands over up to `limit` readings in [from, to] (stored-format bounds) oldest first, one at a
   * time (a 100 000-row answer is never held in memory at once); `latest` takes the newest ones.
   * Synchronous: the connection is free again when it returns. Returns whether more matched.
   */
  eachReading(name: string, from: string, to: string, limit: number, latest: boolean, each: (row: ReadingRow) => void): boolean {
    let start = from;
    let more = false;
    if (latest) {
      const oldestKept = this.st!.nthLatest.get(name, from, to, limit - 1) as string | undefined;
      if (oldestKept !== undefined) {
        more = this.st!.nthLatest.get(name, from, to, limit) !== undefined;
        start = oldestKept;
      }
    }
    let n = 0;
    for (const row of this.st!.asc.iterate(name, start, to, limit + 1) as IterableIterator<ReadingRow>) {
      if (++n > limit) {
        more = true;
        break;
      }
      each(row);
    }
    return more;
  }

  range(name: string, from: string, to: string): { first: string | null; last: string | null; n: number } {
    return this.st!.range.get(name, from, to) as { first: string | null; last: string | null; n: number };
  }

  /** Per bucket of `widthSeconds` from `startEpochSeconds`: count and min/max/mean of each field (default: all). */
  buckets(name: string, from: string, to: string, startEpochSeconds: number, widthSeconds: number, fields: readonly BucketField[] = BUCKET_FIELDS): BucketRow[] {
    const st = fields.length === BUCKET_FIELDS.length ? this.st!.buckets : this.subsetBuckets(fields);
    return st.all(startEpochSeconds, widthSeconds, name, from, to) as BucketRow[];
  }

  /** Bucket statements for a subset of the fields (a chart's two), prepared once per subset. */
  private subsetBuckets(fields: readonly BucketField[]): BetterSqlite3.Statement {
    const key = fields.join(',');
    let st = this.subsets.get(key);
    if (!st) {
      st = this.db!.prepare(bucketSql(fields));
      this.subsets.set(key, st);
    }
    return st;
  }
}
