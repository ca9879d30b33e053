// The SQL and the column arrays of a PostgreSQL batch (pg-store.ts): each table's multi-row insert
// takes one array per column, passed to unnest(), so a batch of any size is one parameter list.
import type { Reading } from '../../decoders/index.js';
import { formatMicrosUTC } from '../time.js';

export interface SensorMeta {
  location: string | null;
  mac: string | null;
  version: string | null;
}

export const LEDGER_KEEP_BATCHES = 2000;

export const INSERT_READINGS = `INSERT INTO "ECCTempHum" ("recordWrittenUTC", "dewPointF", "temperatureF", "relHumidityPercent",
  "battVoltage", "battPercent", "apRSSI", "sensorName")`;
export const INSERT_SENSOR_ROWS = 'INSERT INTO "ECCTempHumSensor" ("recordWrittenUTC", "sensorName", "location", "MACaddress", "softwareVersion")';
export const INSERT_REJECTS = 'INSERT INTO "rejected_messages" ("receivedUTC", "topic", "payload", "payloadEncoding", "payloadBytes", "reason")';
/** The ledger entries of client id `$n` older than the last LEDGER_KEEP_BATCHES batches. */
export const PRUNE_WHERE = (client: string): string =>
  `"clientId" = ${client} AND "batchId" <= (SELECT MAX("batchId") FROM "delivery_ledger" WHERE "clientId" = ${client}) - ${LEDGER_KEEP_BATCHES}`;

export interface SensorRow {
  at: string;
  name: string;
  meta: SensorMeta;
}

export interface RejectColumns {
  at: string[];
  topic: string[];
  payload: string[];
  encoding: string[];
  bytes: number[];
  reason: string[];
}

/** The readings as the eight column arrays unnest() takes, in INSERT_READINGS' order. */
export function readingColumns(rows: ReadonlyArray<{ r: Reading; micros: number }>): unknown[][] {
  return [
    rows.map((x) => formatMicrosUTC(x.micros)),
    rows.map((x) => x.r.dewPointF ?? null),
    rows.map((x) => x.r.temperatureF ?? null),
    rows.map((x) => x.r.relHumidityPercent ?? null),
    rows.map((x) => x.r.battVoltage ?? null),
    rows.map((x) => x.r.battPercent ?? null),
    rows.map((x) => (x.r.apRSSI === null || x.r.apRSSI === undefined ? null : Math.round(x.r.apRSSI))),
    rows.map((x) => x.r.sensorName),
  ];
}

export function sensorColumns(rows: readonly SensorRow[]): unknown[][] {
  return [rows.map((x) => x.at), rows.map((x) => x.name), rows.map((x) => x.meta.location), rows.map((x) => x.meta.mac), rows.map((x) => x.meta.version)];
}
