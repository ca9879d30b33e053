// `export` streams: peak RSS of the real CLI exporting databases of growing size (default 10⁶ and
// 10⁷ readings from 100 sensors, original schema) to /dev/null, as CSV and as NDJSON. Flat memory
// means the same peak for both sizes.
//   npm run build && node dist/bench/export-memory.js [--rows 1000000,10000000]
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { ensureSchema } from '../src/store/schema.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { LAUNCHER_NODE_FLAGS, REPO_ROOT } from './lib/listener-process.js';
import { memoryMB, RssSampler } from './lib/proc.js';

const BIN = join(REPO_ROOT, 'bin', 'mqtt-iot-listener.js');

function makeDatabase(file: string, rows: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  ensureSchema(db);
  const ins = db.prepare('INSERT INTO ECCTempHum VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const start = Date.UTC(2020, 0, 1) * 1000;
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) ins.run(formatMicrosUTC(start + i * 6_000_000), 40.1, 60 + (i % 300) / 10, 45.5, 3.3, 91, -60 - (i % 30), `TH${String(i % 100).padStart(3, '0')}`);
  });
  for (let i = 0; i < rows; i += 100_000) tx(i, Math.min(rows, i + 100_000));
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

const opts = new Command('export-memory').option('--rows <list>', 'database sizes', '1000000,10000000').parse().opts<{ rows: string }>();
const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
try {
  for (const rows of opts.rows.split(',').map(Number)) {
    const db = join(dir, `db-${rows}.sqlite3`);
    const t0 = Date.now();
    makeDatabase(db, rows);
    process.stderr.write(`${rows} readings: database ${(statSync(db).size / 1e6).toFixed(0)} MB, made in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    for (const format of ['csv', 'ndjson']) {
      const r = await exportOnce(db, format);
      process.stdout.write(`${String(rows).padStart(9)} readings  ${format.padEnd(6)}  ${r.seconds.toFixed(1)} s  ${Math.round(rows / r.seconds)} rows/s  peak RSS ${r.peakMB.toFixed(0)} MB\n`);
    }
    rmSync(db, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
