// The SQLite schema in PostgreSQL: the same tables and columns, identifiers quoted so
// "ECCTempHum" keeps its case and the original's tools' column names work unchanged.
// recordWrittenUTC stays TEXT in the original's `YYYY-MM-DD HH:MM:SS.ffffff` form: it sorts as
// time, keeps (sensorName, recordWrittenUTC) identical to SQLite's key, and lets migrate copy rows
// as they are. Several listeners share one database, so the delivery ledger and the QoS 2 store
// are keyed by client id (packet ids are per MQTT session).
import type pg from 'pg';

const CREATE = `
CREATE TABLE IF NOT EXISTS "ECCTempHum" ("recordWrittenUTC" TEXT NOT NULL, "dewPointF" DOUBLE PRECISION,
  "temperatureF" DOUBLE PRECISION, "relHumidityPercent" DOUBLE PRECISION, "battVoltage" DOUBLE PRECISION,
  "battPercent" DOUBLE PRECISION, "apRSSI" INTEGER, "sensorName" TEXT NOT NULL,
  PRIMARY KEY ("sensorName", "recordWrittenUTC"));
CREATE TABLE IF NOT EXISTS "ECCTempHumSensor" ("recordWrittenUTC" TEXT NOT NULL, "sensorName" TEXT NOT NULL,
  "location" TEXT, "MACaddress" TEXT, "softwareVersion" TEXT, PRIMARY KEY ("sensorName", "recordWrittenUTC"));
CREATE TABLE IF NOT EXISTS "rejected_messages" ("id" BIGSERIAL PRIMARY KEY, "receivedUTC" TEXT NOT NULL,
  "topic" TEXT, "payload" TEXT, "payloadEncoding" TEXT, "payloadBytes" INTEGER, "reason" TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS "delivery_ledger" ("batchId" BIGSERIAL PRIMARY KEY, "clientId" TEXT NOT NULL,
  "committedUTC" TEXT NOT NULL, "entries" TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS "delivery_ledger_client_idx" ON "delivery_ledger" ("clientId", "batchId");
CREATE TABLE IF NOT EXISTS "qos2_incoming" ("clientId" TEXT NOT NULL, "packetId" INTEGER NOT NULL,
  "topic" TEXT NOT NULL, "payload" BYTEA NOT NULL, "receivedMicros" BIGINT NOT NULL, "dup" BOOLEAN NOT NULL,
  "retain" BOOLEAN NOT NULL, PRIMARY KEY ("clientId", "packetId"));
`;

/** Any constant: listeners starting together create the schema one at a time. */
const SCHEMA_LOCK = 0x4d494c31;

/** Creates whatever is missing, under an advisory lock (concurrent CREATE … IF NOT EXISTS can collide). */
export async function ensurePgSchema(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(CREATE);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The availability table (--availability-topic), as in SQLite; created when availability is tracked. */
export const PG_AVAILABILITY_DDL = `CREATE TABLE IF NOT EXISTS "availability" ("device" TEXT NOT NULL, "changedUTC" TEXT NOT NULL,
  "state" TEXT NOT NULL, "topic" TEXT NOT NULL, PRIMARY KEY ("device", "changedUTC"))`;
