// `status`: what the database says, for a human at a terminal or for a monitoring script — per
// sensor the last reading, its values and its age, plus totals — read straight from the SQLite
// file (read-only; no broker, no running listener needed). Queries use the primary-key index
// (sensorName, recordWrittenUTC) through SensorQueries (shared with the HTTP API), so a database
// that grew for years answers at once.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigError } from './config.js';
import { inspectLock, lockFileFor } from './instance-lock.js';
import { READINGS_TABLE, REJECTS_TABLE } from './store/schema.js';
import { SensorQueries, tableExists, type LastReading } from './store/sensor-queries.js';
import { parseMicrosUTC } from './store/time.js';

/** A sensor's last reading (its values as stored) with name, location, time and age. */
export interface SensorStatus extends Omit<LastReading, 'recordWrittenUTC'> {
  sensorName: string;
  location: string | null;
  lastReadingUTC: string;
  ageSeconds: number;
  /** Present when a stale threshold was given. */
  stale?: boolean;
}

export interface DatabaseStatus {
  database: string;
  databaseBytes: number;
  checkedAtUTC: string;
  /** Whether a listener holds the database now (from `<db>.lock`). */
  listener: { running: boolean; pid?: number; host?: string; startedAt?: string };
  totals: {
    sensors: number;
    /** Rows in the readings table, by its largest rowid (readings are only ever appended). */
    readings: number;
    rejectedMessages: number;
    firstReadingUTC: string | null;
    lastReadingUTC: string | null;
  };
  staleAfterSeconds?: number;
  /** Sensors older than the threshold; with no readings at all, the database itself counts as stale. */
  stale?: boolean;
  staleSensors?: string[];
  sensors: SensorStatus[];
}

export interface StatusOptions {
  /** A sensor whose last reading is older than this is stale (and `status` exits 1). */
  staleAfterMs?: number;
  now?: () => number;
}

function openReadOnly(dbFile: string): BetterSqlite3.Database {
  if (!existsSync(dbFile)) throw new ConfigError(`database ${dbFile} does not exist; name it with -d (--db)`);
  let db: BetterSqlite3.Database;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
  } catch (err) {
    throw new ConfigError(`cannot open database ${dbFile}: ${(err as Error).message}`);
  }
  return db;
}

export function readStatus(dbFile: string, options: StatusOptions = {}): DatabaseStatus {
  const nowMs = (options.now ?? Date.now)();
  const db = openReadOnly(dbFile);
  try {
    let hasReadings: boolean;
    try {
      hasReadings = tableExists(db, READINGS_TABLE);
    } catch (err) {
      throw new ConfigError(`cannot read database ${dbFile}: ${(err as Error).message}`);
    }
    if (!hasReadings) throw new ConfigError(`${dbFile} is not a listener database (it has no ${READINGS_TABLE} table)`);

    const q = new SensorQueries(db);
    const lasts = q.everyLastReading();

    const staleAfterMs = options.staleAfterMs;
    const sensors: SensorStatus[] = [];
    for (const row of lasts) {
      const name = row.sensorName;
      const micros = parseMicrosUTC(row.recordWrittenUTC);
      const ageMs = Number.isNaN(micros) ? Number.POSITIVE_INFINITY : nowMs - micros / 1000;
      const sensor: SensorStatus = {
        sensorName: name,
        location: row.location,
        lastReadingUTC: row.recordWrittenUTC,
        ageSeconds: Number.isFinite(ageMs) ? Math.max(0, Math.round(ageMs / 1000)) : -1,
        temperatureF: row.temperatureF,
        relHumidityPercent: row.relHumidityPercent,
        dewPointF: row.dewPointF,
        battVoltage: row.battVoltage,
        battPercent: row.battPercent,
        apRSSI: row.apRSSI,
      };
      if (staleAfterMs !== undefined) sensor.stale = !(ageMs <= staleAfterMs);
      sensors.push(sensor);
    }

    // Rows are only ever appended (the listener and the original never delete readings), so the
    // largest rowid is the count; COUNT(*) would read the whole primary-key index (seconds at 10^7).
    const readings = db.prepare(`SELECT COALESCE(MAX(rowid), 0) FROM ${READINGS_TABLE}`).pluck().get() as number;
    const rejectedMessages = tableExists(db, REJECTS_TABLE)
      ? (db.prepare(`SELECT COUNT(*) FROM ${REJECTS_TABLE}`).pluck().get() as number)
      : 0;
    const times = sensors.map((s) => s.lastReadingUTC).sort();
    // The first reading of all: per sensor one seek, in one statement (a loop of 1 000 calls from
    // JavaScript took ~1.5× as long on 10^7 readings, interleaved A/B, npm run bench reads section).
    const first = db
      .prepare(
        `WITH RECURSIVE s(name) AS (
           SELECT MIN(sensorName) FROM ${READINGS_TABLE}
           UNION ALL
           SELECT (SELECT MIN(sensorName) FROM ${READINGS_TABLE} WHERE sensorName > s.name) FROM s WHERE s.name IS NOT NULL)
         SELECT MIN((SELECT MIN(recordWrittenUTC) FROM ${READINGS_TABLE} WHERE sensorName = s.name)) FROM s WHERE s.name IS NOT NULL`,
      )
      .pluck()
      .get() as string | null;

    const held = inspectLock(lockFileFor(dbFile));
    const listener: DatabaseStatus['listener'] = { running: held !== undefined && held.liveness !== 'dead' };
    if (held && listener.running) {
      listener.pid = held.holder.pid;
      if (held.holder.host !== undefined) listener.host = held.holder.host;
      if (held.holder.startedAt !== undefined) listener.startedAt = held.holder.startedAt;
    }

    const status: DatabaseStatus = {
      database: dbFile,
      databaseBytes: statSync(dbFile).size,
      checkedAtUTC: new Date(nowMs).toISOString(),
      listener,
      totals: {
        sensors: sensors.length,
        readings,
        rejectedMessages,
        firstReadingUTC: first,
        lastReadingUTC: times.length > 0 ? times[times.length - 1]! : null,
      },
      sensors,
    };
    if (staleAfterMs !== undefined) {
      status.staleAfterSeconds = staleAfterMs / 1000;
      status.staleSensors = sensors.filter((s) => s.stale).map((s) => s.sensorName);
      status.stale = sensors.length === 0 || status.staleSensors.length > 0;
    }
    return status;
  } finally {
    db.close();
  }
}

/** "45s", "12m 3s", "30m", "3h 5m", "2d 4h": the two largest units, a zero second unit left out. */
export function formatAge(totalSeconds: number): string {
  if (totalSeconds < 0) return '?';
  const seconds = Math.round(totalSeconds);
  const two = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`;
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return two(m, 'm', seconds % 60, 's');
  const h = Math.floor(m / 60);
  if (h < 48) return two(h, 'h', m % 60, 'm');
  return two(Math.floor(h / 24), 'd', h % 24, 'h');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function num(v: number | null, digits: number): string {
  return v === null || v === undefined ? '-' : v.toFixed(digits);
}

/** The human-readable report: a header, one aligned row per sensor, and the stale verdict. */
export function formatStatus(s: DatabaseStatus): string[] {
  const t = s.totals;
  const lines = [
    `database ${s.database} (${formatBytes(s.databaseBytes)}): ${t.sensors} sensor(s), ${t.readings} reading(s), ${t.rejectedMessages} rejected message(s)`,
    s.listener.running
      ? `listener: running (pid ${s.listener.pid}${s.listener.host ? ` on ${s.listener.host}` : ''}${s.listener.startedAt ? `, since ${s.listener.startedAt}` : ''})`
      : 'listener: not running',
  ];
  if (t.firstReadingUTC) lines.push(`readings from ${t.firstReadingUTC} to ${t.lastReadingUTC} UTC`);
  if (s.sensors.length > 0) {
    const header = ['sensor', 'location', 'last reading (UTC)', 'age', '°F', '%RH', 'dew °F', 'batt V', 'batt %', 'RSSI'];
    if (s.staleAfterSeconds !== undefined) header.push('');
    const rows = s.sensors.map((x) => {
      const row = [
        x.sensorName,
        x.location ?? '-',
        x.lastReadingUTC.slice(0, 19),
        formatAge(x.ageSeconds),
        num(x.temperatureF, 2),
        num(x.relHumidityPercent, 2),
        num(x.dewPointF, 2),
        num(x.battVoltage, 2),
        num(x.battPercent, 1),
        x.apRSSI === null ? '-' : String(x.apRSSI),
      ];
      if (s.staleAfterSeconds !== undefined) row.push(x.stale ? 'STALE' : '');
      return row;
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    lines.push('', fmt(header), ...rows.map(fmt));
  }
  if (s.staleAfterSeconds !== undefined) {
    const limit = formatAge(s.staleAfterSeconds);
    if (s.sensors.length === 0) lines.push('', `STALE: no readings at all (threshold ${limit})`);
    else if (s.staleSensors && s.staleSensors.length > 0) {
      lines.push('', `STALE: ${s.staleSensors.length} sensor(s) without a reading for more than ${limit}: ${s.staleSensors.join(', ')}`);
    } else lines.push('', `OK: every sensor reported within ${limit}`);
  }
  return lines;
}
