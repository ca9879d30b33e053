// The original listener's schema (tables ECCTempHum and ECCTempHumSensor), so databases it
// created open unchanged and keep growing, plus our own tables: rejected_messages (bad input is
// kept, never dropped), delivery_ledger (suppresses QoS 1/2 redeliveries of committed rows) and
// qos2_incoming (QoS 2 messages acknowledged with PUBREC and not yet stored, so a crash before
// PUBREL loses nothing).
import type BetterSqlite3 from 'better-sqlite3';

export const READINGS_TABLE = 'ECCTempHum';
export const SENSOR_TABLE = 'ECCTempHumSensor';
export const REJECTS_TABLE = 'rejected_messages';

const CREATE = `
CREATE TABLE IF NOT EXISTS ECCTempHum (recordWrittenUTC TEXT, dewPointF REAL, temperatureF REAL,
  relHumidityPercent REAL, battVoltage REAL, battPercent REAL, apRSSI INTEGER, sensorName TEXT,
  PRIMARY KEY (sensorName, recordWrittenUTC));
CREATE TABLE IF NOT EXISTS ECCTempHumSensor (recordWrittenUTC TEXT, sensorName TEXT, location TEXT,
  MACaddress TEXT, softwareVersion TEXT, PRIMARY KEY (sensorName, recordWrittenUTC));
CREATE TABLE IF NOT EXISTS rejected_messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
  receivedUTC TEXT NOT NULL, topic TEXT, payload TEXT, payloadEncoding TEXT, payloadBytes INTEGER,
  reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_ledger (batchId INTEGER PRIMARY KEY AUTOINCREMENT,
  committedUTC TEXT NOT NULL, entries TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS qos2_incoming (packetId INTEGER PRIMARY KEY, topic TEXT NOT NULL,
  payload BLOB NOT NULL, receivedMicros INTEGER NOT NULL, dup INTEGER NOT NULL, retain INTEGER NOT NULL);
`;

/**
 * Creates whatever is missing; never alters what an existing (original) database has. New
 * databases get no ECCTempHum_sensor_idx, the original's index on sensorName alone: the primary
 * key (sensorName, recordWrittenUTC) already serves every lookup by sensor, and keeping a second
 * B-tree up to date cost about a third of SQLite's insert time (README, Performance). A database
 * that has it (created by the original) keeps it.
 */
export function ensureSchema(db: BetterSqlite3.Database): void {
  db.exec(CREATE);
}
