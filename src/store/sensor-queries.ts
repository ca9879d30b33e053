// Read-side queries shared by `status` and the HTTP API (which runs them once at start): every
// sensor's last reading and location by seeks on the (sensorName, recordWrittenUTC) primary key,
// never a scan of every row, so a database that grew for years still answers.
import type BetterSqlite3 from 'better-sqlite3';
import { READINGS_TABLE, SENSOR_TABLE } from './schema.js';

export interface LastReading {
  recordWrittenUTC: string;
  temperatureF: number | null;
  relHumidityPercent: number | null;
  dewPointF: number | null;
  battVoltage: number | null;
  battPercent: number | null;
  apRSSI: number | null;
}

export function tableExists(db: BetterSqlite3.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(name) !== undefined;
}

/** Prepared once per connection; every call is a handful of index seeks. */
export class SensorQueries {
  private readonly first: BetterSqlite3.Statement;
  private readonly everyLast: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    // Distinct sensor names by hopping along the index: one seek per sensor, not a scan of every row.
    const skipScan = `WITH RECURSIVE s(name) AS (
           SELECT MIN(sensorName) FROM ${READINGS_TABLE}
           UNION ALL
           SELECT (SELECT MIN(sensorName) FROM ${READINGS_TABLE} WHERE sensorName > s.name) FROM s WHERE s.name IS NOT NULL)`;
    const hasSensorTable = tableExists(db, SENSOR_TABLE);
    // Every sensor's last reading (and location) in one statement: per sensor one MAX() seek and
    // one primary-key lookup, with no round trip to JavaScript in between.
    this.everyLast = db.prepare(
      `${skipScan}
       SELECT s.name AS sensorName, r.recordWrittenUTC, r.temperatureF, r.relHumidityPercent, r.dewPointF, r.battVoltage, r.battPercent, r.apRSSI,
         ${hasSensorTable ? `(SELECT location FROM ${SENSOR_TABLE} m WHERE m.sensorName = s.name ORDER BY m.recordWrittenUTC DESC LIMIT 1)` : 'NULL'} AS location
       FROM s JOIN ${READINGS_TABLE} r ON r.sensorName = s.name
         AND r.recordWrittenUTC = (SELECT MAX(recordWrittenUTC) FROM ${READINGS_TABLE} WHERE sensorName = s.name)
       WHERE s.name IS NOT NULL ORDER BY s.name`,
    );
    this.first = db.prepare(`SELECT MIN(recordWrittenUTC) FROM ${READINGS_TABLE} WHERE sensorName = ?`).pluck();
  }

  /** Every sensor's last reading and location, in name order. */
  everyLastReading(): Array<LastReading & { sensorName: string; location: string | null }> {
    return this.everyLast.all() as Array<LastReading & { sensorName: string; location: string | null }>;
  }

  firstReadingUTC(name: string): string | null {
    return (this.first.get(name) as string | null | undefined) ?? null;
  }
}
