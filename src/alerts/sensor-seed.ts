// Each sensor's last reading time, read once at start through a read-only connection of its own,
// so silence is judged also for sensors that went quiet while the listener was down. One index
// lookup per sensor (the (sensorName, recordWrittenUTC) primary key), no table scan.
import Database from 'better-sqlite3';
import { sensorNames } from '../status.js';
import { READINGS_TABLE } from '../store/schema.js';
import { parseMicrosUTC } from '../store/time.js';

export function lastReadingPerSensor(dbFile: string): Map<string, number> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const lastOf = db.prepare(`SELECT MAX(recordWrittenUTC) FROM ${READINGS_TABLE} WHERE sensorName = ?`).pluck();
    const out = new Map<string, number>();
    for (const name of sensorNames(db)) {
      const micros = parseMicrosUTC((lastOf.get(name) as string | null) ?? '');
      if (Number.isFinite(micros)) out.set(name, micros / 1000);
    }
    return out;
  } finally {
    db.close();
  }
}
