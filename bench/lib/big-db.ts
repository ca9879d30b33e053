// Big databases for the growth and reads-beside-writes scenarios: `rows` readings of `sensors`
// sensors, one every 10 minutes per sensor, ending a day ago, in the schema our listener creates.
// Written by one INSERT … WITH RECURSIVE per transaction of a million rows, in time order (all
// sensors per tick, as a real network fills it, so the primary key's B-tree has the page splits of
// real growth), and cached under bench/results/ so reruns only copy the file.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensureSchema } from '../../src/store/schema.js';
import { REPO_ROOT } from './listener-process.js';
import { sensorName, sensorLocation, sensorMac } from './payload.js';

/** Bump when the generated content changes, so stale caches are not reused. */
const GENERATOR_VERSION = 1;
const TICK_MICROS = 600_000_000; // 10 minutes
const ROWS_PER_TRANSACTION = 1_000_000;

export interface BigDb {
  file: string;
  rows: number;
  sensors: number;
  /** Seconds spent generating it in this run (0: taken from the cache). */
  generatedSeconds: number;
  bytes: number;
}

export function bigDbCacheDir(): string {
  return join(REPO_ROOT, 'bench', 'results', 'cache');
}

/** The cached database of that size, generated first if missing. */
export function bigDb(rows: number, sensors: number, log: (line: string) => void = () => {}): BigDb {
  const dir = bigDbCacheDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `readings-${rows}-${sensors}-v${GENERATOR_VERSION}.sqlite3`);
  let generatedSeconds = 0;
  if (!existsSync(file)) {
    log(`generating ${rows} readings of ${sensors} sensors into ${file} (cached for later runs)`);
    const t0 = performance.now();
    const partial = `${file}.partial`;
    rmSync(partial, { force: true });
    generate(partial, rows, sensors);
    renameSync(partial, file);
    generatedSeconds = (performance.now() - t0) / 1000;
    log(`generated in ${generatedSeconds.toFixed(1)} s`);
  }
  return { file, rows, sensors, generatedSeconds, bytes: statSync(file).size };
}

/** A private copy for one run (the listener writes into it). */
export function copyBigDb(db: BigDb, to: string): void {
  copyFileSync(db.file, to);
}

function generate(file: string, rows: number, sensors: number): void {
  const db = new Database(file);
  try {
    // A throw-away file until renamed: no journal, no syncs; a large cache for the 1 000 insert points.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    ensureSchema(db);
    const ticks = Math.ceil(rows / sensors);
    const endMicros = Math.floor((Date.now() - 86_400_000) / 1000) * 1_000_000; // whole seconds
    const startMicros = endMicros - ticks * TICK_MICROS;
    const insertSensor = db.prepare('INSERT INTO ECCTempHumSensor VALUES (?, ?, ?, ?, ?)');
    const startText = db.prepare(`SELECT strftime('%Y-%m-%d %H:%M:%S', ? / 1e6, 'unixepoch') || '.000000'`).pluck();
    db.transaction(() => {
      for (let s = 0; s < sensors; s++) insertSensor.run(startText.get(startMicros), sensorName(s), sensorLocation(s), sensorMac(s), 'v03.10');
    })();
    // Row i: sensor i % sensors at tick i / sensors; values vary a little so pages compress and
    // look like readings. Timestamps keep the original's text form with microseconds.
    const insert = db.prepare(`
      WITH RECURSIVE n(i) AS (SELECT @from UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @to)
      INSERT INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage,
        battPercent, apRSSI, sensorName)
      SELECT strftime('%Y-%m-%d %H:%M:%S', (@start + (i / @sensors) * ${TICK_MICROS} + (i % @sensors) * 1000) / 1000000, 'unixepoch')
               || printf('.%06d', (i % @sensors) * 1000 % 1000000),
             40 + (i % 97) / 10.0, 60 + (i % 211) / 10.0, 30 + (i % 53), 3.9, 80, -60 - (i % 20),
             printf('BENCH%05d', i % @sensors)
        FROM n`);
    for (let from = 0; from < rows; from += ROWS_PER_TRANSACTION) {
      const to = Math.min(rows, from + ROWS_PER_TRANSACTION);
      db.transaction(() => insert.run({ from, to, start: startMicros, sensors }))();
    }
  } finally {
    db.close();
  }
}
