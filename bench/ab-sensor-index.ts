// A/B of the original's sensorName index (issue 17): CPU per inserted row with and without it, in
// interleaved rounds (a noisy neighbour hits both alike), the listener's statement and pragmas,
// 4 000-row transactions. `node dist/bench/ab-sensor-index.js [rounds] [rows]`
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensureSchema } from '../src/store/schema.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { sensorName } from './lib/payload.js';
import { figure } from './lib/stats.js';

function cpuUsPerRow(withIndex: boolean, rows: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ab-'));
  try {
    const db = new Database(join(dir, 'ab.sqlite3'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -4096');
    ensureSchema(db);
    if (withIndex) db.exec('CREATE INDEX ECCTempHum_sensor_idx ON ECCTempHum (sensorName)');
    const insert = db.prepare(
      `INSERT OR IGNORE INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage,
         battPercent, apRSSI, sensorName) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const base = Date.now() * 1000;
    const values = Array.from({ length: rows }, (_, i) => [formatMicrosUTC(base + i * 10), 45.5, 60 + (i % 100) / 10, 40, 3.91, 67.8, -61, sensorName(i % 100)]);
    const tx = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(...values[i]!);
    });
    const cpu0 = process.cpuUsage();
    for (let from = 0; from < rows; from += 4000) tx(from, Math.min(rows, from + 4000));
    const cpu = process.cpuUsage(cpu0);
    db.close();
    return (cpu.user + cpu.system) / rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rounds = Number(process.argv[2] ?? 5);
const rows = Number(process.argv[3] ?? 100_000);
const withIdx: number[] = [];
const without: number[] = [];
for (let r = 0; r < rounds; r++) {
  withIdx.push(cpuUsPerRow(true, rows));
  without.push(cpuUsPerRow(false, rows));
}
const f = (v: number[]): string => {
  const x = figure(v);
  return `${x.median.toFixed(2)} µs (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
};
process.stdout.write(`CPU per row, ${rounds} interleaved rounds of ${rows} rows\n  with ECCTempHum_sensor_idx: ${f(withIdx)}\n  without:                    ${f(without)}\n`);
process.stdout.write(`  per-round ratio without/with: ${without.map((w, i) => (w / withIdx[i]!).toFixed(2)).join(' ')}\n`);
