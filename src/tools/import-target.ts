// The database `import` merges into (-d): opened (or created) as the listener opens it — WAL, the
// original's schema — with a generous busy timeout, so it can run beside a running listener:
// rows go in as INSERT OR IGNORE on the primary key (sensorName, recordWrittenUTC), in short
// transactions that keep the listener's commits waiting for milliseconds at most.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigError } from '../config.js';
import { errorText } from '../files.js';
import { ensureSchema } from '../store/schema.js';
import type { ExportRow } from './export.js';

export interface SensorRow {
  recordWrittenUTC: string;
  sensorName: string;
  location: string | null;
  MACaddress: string | null;
  softwareVersion: string | null;
}

export interface MergeCounts {
  added: number;
  skipped: number;
}

export class ImportTarget {
  private readonly insertReading: BetterSqlite3.Statement;
  private readonly insertSensor: BetterSqlite3.Statement;
  private readonly readingsTx: BetterSqlite3.Transaction<(rows: readonly object[]) => number>;
  private readonly sensorsTx: BetterSqlite3.Transaction<(rows: readonly object[]) => number>;

  private constructor(private readonly db: BetterSqlite3.Database) {
    this.insertReading = db.prepare(
      `INSERT OR IGNORE INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage, battPercent, apRSSI, sensorName)
       VALUES (@recordWrittenUTC, @dewPointF, @temperatureF, @relHumidityPercent, @battVoltage, @battPercent, @apRSSI, @sensorName)`,
    );
    this.insertSensor = db.prepare(
      `INSERT OR IGNORE INTO ECCTempHumSensor (recordWrittenUTC, sensorName, location, MACaddress, softwareVersion)
       VALUES (@recordWrittenUTC, @sensorName, @location, @MACaddress, @softwareVersion)`,
    );
    const many = (st: BetterSqlite3.Statement) =>
      db.transaction((rows: readonly object[]) => {
        let added = 0;
        for (const r of rows) added += st.run(r).changes;
        return added;
      });
    this.readingsTx = many(this.insertReading);
    this.sensorsTx = many(this.insertSensor);
  }

  static open(dbFile: string): ImportTarget {
    let db: BetterSqlite3.Database | undefined;
    try {
      mkdirSync(dirname(dbFile), { recursive: true });
      db = new Database(dbFile);
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
      ensureSchema(db);
      return new ImportTarget(db);
    } catch (err) {
      db?.close();
      throw new ConfigError(`cannot import into ${dbFile}: ${errorText(err)}`);
    }
  }

  /** Inserts what is not there yet, in one short transaction; returns added and skipped. */
  addReadings(rows: readonly ExportRow[]): MergeCounts {
    const added = this.readingsTx.immediate(rows);
    return { added, skipped: rows.length - added };
  }

  addSensorRows(rows: readonly SensorRow[]): MergeCounts {
    const added = this.sensorsTx.immediate(rows);
    return { added, skipped: rows.length - added };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
