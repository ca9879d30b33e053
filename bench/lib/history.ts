// Years of readings written straight into a database (the listener's schema), for the page's
// tests and bench: daily and yearly temperature cycles, humidity moving against them, one
// reading per sensor every `intervalMinutes`, ending at `endMs`.
import Database from 'better-sqlite3';
import { ensureSchema } from '../../src/store/schema.js';
import { formatMicrosUTC } from '../../src/store/time.js';

export interface SeededSensor {
  name: string;
  location?: string;
  /** How far back the readings go. */
  days: number;
  intervalMinutes?: number;
  /** The last reading's time (default: now). */
  endMs?: number;
  battPercent?: number;
  /** Shifts this sensor's curve so overlaid sensors differ. */
  offsetF?: number;
}

const DAY_MS = 86_400_000;

/** Writes the readings (and each sensor's location row); returns how many readings. */
export function seedHistory(dbFile: string, sensors: readonly SeededSensor[]): number {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  ensureSchema(db);
  const insert = db.prepare('INSERT OR IGNORE INTO ECCTempHum VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const place = db.prepare('INSERT OR IGNORE INTO ECCTempHumSensor VALUES (?, ?, ?, ?, ?)');
  let rows = 0;
  const write = db.transaction((batch: Array<[string, number, number, number, number, number, number, string]>) => {
    for (const r of batch) insert.run(...r);
  });
  for (const s of sensors) {
    const step = (s.intervalMinutes ?? 10) * 60_000;
    const end = s.endMs ?? Date.now();
    const start = end - s.days * DAY_MS;
    const offset = s.offsetF ?? 0;
    let batch: Array<[string, number, number, number, number, number, number, string]> = [];
    for (let t = end - Math.floor((end - start) / step) * step; t <= end; t += step) {
      const day = Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS - Math.PI / 2);
      const year = Math.sin((2 * Math.PI * t) / (365 * DAY_MS));
      const noise = Math.sin(t / 7_919_000) * 0.6;
      const tempF = round(66 + offset + 6 * day + 9 * year + noise);
      const hum = round(48 - offset - 12 * day - 6 * year + noise * 2);
      const dew = round(tempF - (100 - hum) * 0.36);
      const batt = s.battPercent ?? 80;
      batch.push([formatMicrosUTC(t * 1000), dew, tempF, hum, round(3.3 + batt / 125), batt, -62, s.name]);
      if (batch.length === 20_000) {
        write(batch);
        rows += batch.length;
        batch = [];
      }
    }
    write(batch);
    rows += batch.length;
    if (s.location !== undefined) place.run(formatMicrosUTC(start * 1000), s.name, s.location, '98:F4:AB:DA:6E:E2', 'v03.10');
  }
  db.close();
  return rows;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
