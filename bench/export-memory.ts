// `export` streams: peak RSS of the real CLI exporting databases of growing size (default 10⁶ and
// 10⁷ readings from 100 sensors, original schema) to /dev/null, as CSV and as NDJSON. Flat memory
// means the same peak for both sizes.
//   npm run build && node dist/bench/export-memory.js [--rows 1000000,10000000] [--formats csv,ndjson]
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { ensureSchema } from '../src/store/schema.js';
import { LAUNCHER_NODE_FLAGS, REPO_ROOT } from './lib/listener-process.js';
import { memoryMB, RssSampler } from './lib/proc.js';

const BIN = join(REPO_ROOT, 'bin', 'mqtt-iot-listener.js');

/** Readings generated inside SQLite (a recursive CTE), a million per transaction: quick even for 10⁷. */
function makeDatabase(file: string, rows: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  ensureSchema(db);
  const start = Date.UTC(2020, 0, 1);
  const fill = db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
     INSERT INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage, battPercent, apRSSI, sensorName)
     SELECT strftime('%Y-%m-%d %H:%M:%f', (${start} + i * 6000) / 1000.0, 'unixepoch') || '123',
            40.1, 60 + (i % 300) / 10.0, 45.5, 3.3, 91, -60 - (i % 30), 'TH' || printf('%03d', i % 100) FROM n`,
  );
  for (let i = 0; i < rows; i += 1_000_000) db.transaction(() => fill.run(i, Math.min(rows, i + 1_000_000)))();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function exportOnce(db: string, format: string): Promise<{ seconds: number; peakMB: number }> {
  const started = Date.now();
  const out = openSync('/dev/null', 'w');
  const child = spawn(process.execPath, [...LAUNCHER_NODE_FLAGS, BIN, '-d', db, 'export', '--format', format], { stdio: ['ignore', out, 'inherit'] });
  const sampler = new RssSampler(child.pid!, 100);
  sampler.start();
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, memoryMB(child.pid!).peak || 0)), 100);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(poll);
  sampler.stop();
  if (code !== 0) throw new Error(`export exited ${code}`);
  return { seconds: (Date.now() - started) / 1000, peakMB: Math.max(peak, sampler.peakMB) };
}

const opts = new Command('export-memory')
  .option('--rows <list>', 'database sizes', '1000000,10000000')
  .option('--formats <list>', 'export formats', 'csv,ndjson')
  .parse()
  .opts<{ rows: string; formats: string }>();
const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
try {
  for (const rows of opts.rows.split(',').map(Number)) {
    const db = join(dir, `db-${rows}.sqlite3`);
    const t0 = Date.now();
    makeDatabase(db, rows);
    process.stderr.write(`${rows} readings: database ${(statSync(db).size / 1e6).toFixed(0)} MB, made in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    for (const format of opts.formats.split(',')) {
      const r = await exportOnce(db, format);
      process.stdout.write(`${String(rows).padStart(9)} readings  ${format.padEnd(6)}  ${r.seconds.toFixed(1)} s  ${Math.round(rows / r.seconds)} rows/s  peak RSS ${r.peakMB.toFixed(0)} MB\n`);
    }
    rmSync(db, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
