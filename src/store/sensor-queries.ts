// Read-side queries shared by `status` and the HTTP API: the sensor list and each sensor's last
// reading and location, all by seeks on the (sensorName, recordWrittenUTC) primary key, so a
// database that grew for years (10⁷ rows) answers in milliseconds instead of a full scan.
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
  private readonly last: BetterSqlite3.Statement;
  private readonly first: BetterSqlite3.Statement;
  private readonly location: BetterSqlite3.Statement | undefined;
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
    this.last = db.prepare(
      `SELECT recordWrittenUTC, temperatureF, relHumidityPercent, dewPointF, battVoltage, battPercent, apRSSI
         FROM ${READINGS_TABLE} WHERE sensorName = ? ORDER BY recordWrittenUTC DESC LIMIT 1`,
    );
    this.first = db.prepare(`SELECT MIN(recordWrittenUTC) FROM ${READINGS_TABLE} WHERE sensorName = ?`).pluck();
    this.location = hasSensorTable
      ? db.prepare(`SELECT location FROM ${SENSOR_TABLE} WHERE sensorName = ? ORDER BY recordWrittenUTC DESC LIMIT 1`).pluck()
      : undefined;
  }

  /** Every sensor's last reading and location, in name order. */
  everyLastReading(): Array<LastReading & { sensorName: string; location: string | null }> {
    return this.everyLast.all() as Array<LastReading & { sensorName: string; location: string | null }>;
  }

  lastReading(name: string): LastReading | undefined {
    return this.last.get(name) as LastReading | undefined;
  }

  firstReadingUTC(name: string): string | null {
    return (this.first.get(name) as string | null | undefined) ?? null;
  }

  /** The location the sensor last reported (firmware >= v03.10), or null. */
  locationOf(name: string): string | null {
    return (this.location?.get(name) as string | null | undefined) ?? null;
  }
}
