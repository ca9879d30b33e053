// Each sensor's last reading time, read once at start through a read-only connection of its own,
// so silence is judged also for sensors that went quiet while the listener was down. Hops along
// the (sensorName, recordWrittenUTC) primary-key index: one lookup per sensor, no table scan.
import Database from 'better-sqlite3';
import { READINGS_TABLE } from '../store/schema.js';
import { parseMicrosUTC } from '../store/time.js';

export function lastReadingPerSensor(dbFile: string): Map<string, number> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const rows = db
      .prepare(
        `WITH RECURSIVE s(name) AS (
           SELECT MIN(sensorName) FROM ${READINGS_TABLE}
           UNION ALL
           SELECT (SELECT MIN(sensorName) FROM ${READINGS_TABLE} WHERE sensorName > s.name) FROM s WHERE s.name IS NOT NULL)
         SELECT name, (SELECT MAX(recordWrittenUTC) FROM ${READINGS_TABLE} WHERE sensorName = s.name) AS last
           FROM s WHERE name IS NOT NULL`,
      )
      .all() as Array<{ name: string; last: string | null }>;
    const out = new Map<string, number>();
    for (const r of rows) {
      const micros = r.last === null ? Number.NaN : parseMicrosUTC(r.last);
      if (Number.isFinite(micros)) out.set(r.name, micros / 1000);
    }
    return out;
  } finally {
    db.close();
  }
}
