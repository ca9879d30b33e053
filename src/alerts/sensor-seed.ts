// Each sensor's last reading time, read once at start through a read-only connection of its own
// (SQLite file or PostgreSQL), so silence is judged also for sensors that went quiet while the
// listener was down. One index lookup per sensor (the (sensorName, recordWrittenUTC) primary
// key), no table scan.
import Database from 'better-sqlite3';
import pg from 'pg';
import { redactError } from '../store/postgres/pg-store.js';
import { SensorQueries } from '../store/sensor-queries.js';
import { parseMicrosUTC } from '../store/time.js';

export function lastReadingPerSensor(dbFile: string): Map<string, number> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const out = new Map<string, number>();
    for (const r of new SensorQueries(db).everyLastReading()) {
      const micros = parseMicrosUTC(r.recordWrittenUTC);
      if (Number.isFinite(micros)) out.set(r.sensorName, micros / 1000);
    }
    return out;
  } finally {
    db.close();
  }
}

/** The same from PostgreSQL (-d postgres://…), on a short-lived connection of its own. */
export async function lastReadingPerSensorPg(url: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string; last: string | null }>(
      `WITH RECURSIVE s(name) AS (
         SELECT MIN("sensorName") FROM "ECCTempHum"
         UNION ALL
         SELECT (SELECT MIN("sensorName") FROM "ECCTempHum" WHERE "sensorName" > s.name) FROM s WHERE s.name IS NOT NULL)
       SELECT name, (SELECT MAX("recordWrittenUTC") FROM "ECCTempHum" WHERE "sensorName" = s.name) AS last
         FROM s WHERE name IS NOT NULL`,
    );
    const out = new Map<string, number>();
    for (const r of rows) {
      const micros = parseMicrosUTC(r.last ?? '');
      if (Number.isFinite(micros)) out.set(r.name, micros / 1000);
    }
    return out;
  } catch (err) {
    throw new Error(redactError(err, url));
  } finally {
    await client.end().catch(() => undefined);
  }
}
