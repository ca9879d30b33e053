// export and import as a user runs them: the real launcher in child processes, real SQLite files —
// a database made with the original listener's schema, archives made by the real DatabaseArchiver,
// and a database a running listener is writing to.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import { silentLogger } from '../src/logging/types.js';
import { DatabaseArchiver, listArchives } from '../src/store/database-archiver.js';
import { ReadingStore, type IncomingMessage } from '../src/store/reading-store.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { freePort } from './helpers/brokers.js';
import { BIN, publish, SECRET, spawnListener } from './helpers/processes.js';
import { count, payload, query, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The original Python listener's database, exactly as its DDL (v02.10 index name) made it, with DELETE journal. */
export function originalDatabase(file: string, readings: number, sensors = 3, startMs = Date.UTC(2026, 0, 1)): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE IF NOT EXISTS ECCTempHum (recordWrittenUTC TEXT, dewPointF REAL, temperatureF REAL,
      relHumidityPercent REAL, battVoltage REAL, battPercent REAL, apRSSI INTEGER, sensorName TEXT,
      PRIMARY KEY (sensorName, recordWrittenUTC));
    CREATE INDEX sensor_idx ON ECCTempHum (sensorName);
    CREATE TABLE IF NOT EXISTS ECCTempHumSensor (recordWrittenUTC TEXT, sensorName TEXT, location TEXT,
      MACaddress TEXT, softwareVersion TEXT, PRIMARY KEY (sensorName, recordWrittenUTC));`);
  const ins = db.prepare('INSERT INTO ECCTempHum VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const meta = db.prepare('INSERT INTO ECCTempHumSensor VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < readings; i++) {
      // Python's str(datetime): no fraction when the microseconds are 0.
      const t = formatMicrosUTC((startMs + i * 60_000) * 1000 + (i % 2 === 0 ? 0 : 123_456));
      const text = t.endsWith('.000000') ? t.slice(0, 19) : t;
      ins.run(text, 40 + (i % 7) / 10, 60 + (i % 30) / 4, 45.5, 3.3, i % 3 === 0 ? null : 90, -60 - (i % 20), `TH${i % sensors}`);
    }
    for (let s = 0; s < sensors; s++) meta.run(formatMicrosUTC(startMs * 1000), `TH${s}`, `room ${s}`, `AA:BB:CC:00:00:0${s}`, 'v03.10');
  })();
  db.close();
}

const COLUMNS = 'recordWrittenUTC, sensorName, temperatureF, relHumidityPercent, dewPointF, battVoltage, battPercent, apRSSI';
const allReadings = (file: string) => query(file, `SELECT ${COLUMNS} FROM ECCTempHum ORDER BY sensorName, recordWrittenUTC`);

describe('import', () => {
  it("merges an original listener's database into -d, prints added/skipped, and adds nothing the second time", () => {
    const dir = tempDir();
    const orig = join(dir, 'old-ECCTempHum.sqlite3');
    originalDatabase(orig, 3000);
    mkdirSync(join(dir, 'data'));
    const db = join(dir, 'data', 'ECCTempHum.sqlite3');
    // -d already holds some of them (say, imported once before, or stored by both listeners).
    originalDatabase(db, 1000);

    const first = cli(['-d', db, 'import', orig]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('readings: 2000 added, 1000 skipped');
    expect(first.out).toContain('sensor rows: 0 added, 3 skipped');
    expect(allReadings(db)).toEqual(allReadings(orig));

    const second = cli(['-d', db, 'import', orig]);
    expect(second.code).toBe(0);
    expect(second.out).toContain('readings: 0 added, 3000 skipped');
    expect(count(db, 'ECCTempHum')).toBe(3000);
    // The source is only read: still the original's journal mode and no tables of ours.
    expect(query(orig, "SELECT name FROM sqlite_master WHERE name = 'rejected_messages'")).toEqual([]);
  });

  it('a CSV from export round-trips: same rows, and importing it again adds nothing', () => {
    const dir = tempDir();
    const orig = join(dir, 'orig.sqlite3');
    originalDatabase(orig, 2500);
    const csv = join(dir, 'readings.csv');
    const exported = cli(['-d', orig, 'export', '--out', csv]);
    expect(exported.code).toBe(0);
    expect(exported.out).toContain('exported 2500 reading(s)');
    const target = join(dir, 'new.sqlite3');
    const r = cli(['-d', target, 'import', csv]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('readings: 2500 added, 0 skipped');
    expect(allReadings(target)).toEqual(allReadings(orig));
    expect(cli(['-d', target, 'import', csv]).out).toContain('readings: 0 added, 2500 skipped');
  });

  it('reports bad CSV rows by line number and imports the rest (exit 1)', () => {
    const dir = tempDir();
    const csv = join(dir, 'edited.csv');
    writeFileSync(
      csv,
      [
        'recordWrittenUTC,sensorName,temperatureF,relHumidityPercent,dewPointF,battVoltage,battPercent,apRSSI',
        '2026-02-01 10:00:00.000001,A1,70.5,40,45,3.3,90,-61',
        'yesterday,A1,70.5,40,45,3.3,90,-61',
        '2026-02-01 10:01:00.000001,,70.5,40,45,3.3,90,-61',
        '2026-02-01 10:02:00.000001,A1,warm,40,45,3.3,90,-61',
        '2026-02-01 10:03:00.000001,A1,70.5,40',
        '2026-02-01T10:04:00Z,A1,71,40,45,3.3,,-61',
        '',
        '2026-02-01 10:05:00,A2,72,41,46,3.2,80,-70',
      ].join('\n'),
    );
    const db = join(dir, 'x.sqlite3');
    const r = cli(['-d', db, 'import', csv]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('readings: 3 added, 0 skipped');
    const errs = r.err.trim().split('\n');
    expect(errs).toHaveLength(4);
    expect(errs[0]).toMatch(/line 3: recordWrittenUTC "yesterday" is not a time/);
    expect(errs[1]).toMatch(/line 4: no sensorName/);
    expect(errs[2]).toMatch(/line 5: temperatureF "warm" is not a number/);
    expect(errs[3]).toMatch(/line 6: .*(column|record|length)/i);
    expect(query(db, 'SELECT recordWrittenUTC AS t, battPercent AS b FROM ECCTempHum ORDER BY t')).toEqual([
      { t: '2026-02-01 10:00:00.000001', b: 90 },
      { t: '2026-02-01 10:04:00.000000', b: null },
      { t: '2026-02-01 10:05:00', b: 80 },
    ]);
  });

  it('a file that is no database, archive or export CSV, or cannot be read, exits 2 with one line', () => {
    const dir = tempDir();
    const junk = join(dir, 'notes.txt');
    writeFileSync(junk, 'hello\nworld\n');
    const gz = join(dir, 'text.gz');
    writeFileSync(gz, gzipSync(readFileSync(junk)));
    const cut = join(dir, 'cut.sqlite3.gz');
    const whole = join(dir, 'whole.sqlite3');
    originalDatabase(whole, 100);
    writeFileSync(cut, gzipSync(readFileSync(whole)).subarray(0, 200));
    const db = join(dir, 'x.sqlite3');
    for (const [file, why] of [
      [junk, /is neither a listener database/],
      [gz, /gzipped but holds no database/],
      [cut, /cannot unpack archive/],
      [join(dir, 'missing.sqlite3'), /cannot read .*missing\.sqlite3/],
    ] as const) {
      for (const args of [['-d', db, 'import', file], ['export', file]]) {
        const r = cli(args);
        expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
        expect(r.out).toBe('');
        expect(r.err.trim().split('\n')).toHaveLength(1);
        expect(r.err).toMatch(why);
      }
    }
    expect(readdirSync(dir).filter((n) => n.includes('unpacked'))).toEqual([]);
    for (const cmd of [['import', whole], ['export']]) {
      const r = cli(['-d', 'postgres://listener:pw@127.0.0.1:1/sensors', ...cmd]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/works on SQLite databases/);
    }
  });
});

describe('export', () => {
  it('CSV by default; JSON and NDJSON hold the same rows; --sensor repeats; --from/--to take ISO times', () => {
    const dir = tempDir();
    const db = join(dir, 'db.sqlite3');
    originalDatabase(db, 600, 4);
    const csv = cli(['-d', db, 'export']);
    expect(csv.code).toBe(0);
    const lines = csv.out.trim().split('\n');
    expect(lines[0]).toBe('recordWrittenUTC,sensorName,temperatureF,relHumidityPercent,dewPointF,battVoltage,battPercent,apRSSI');
    expect(lines).toHaveLength(601);
    expect(lines).toContain('2026-01-01 00:00:00,TH0,60,45.5,40,3.3,,-60');

    const json = JSON.parse(cli(['-d', db, 'export', '--format', 'json']).out) as Array<Record<string, unknown>>;
    const ndjson = cli(['-d', db, 'export', '--format', 'ndjson']).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(json).toEqual(ndjson);
    expect(json).toEqual(allReadings(db));

    const some = cli(['-d', db, 'export', '--format', 'ndjson', '--sensor', 'TH1', '--sensor', 'TH3', '--from', '2026-01-01T01:00', '--to', '2026-01-01T02:00:00Z']);
    const rows = some.out.trim().split('\n').map((l) => JSON.parse(l) as { sensorName: string; recordWrittenUTC: string });
    expect(rows.length).toBe(30); // 60 minutes, one reading a minute, 2 of 4 sensors
    expect(new Set(rows.map((r) => r.sensorName))).toEqual(new Set(['TH1', 'TH3']));
    expect(rows.every((r) => r.recordWrittenUTC >= '2026-01-01 01:00' && r.recordWrittenUTC < '2026-01-01 02:00')).toBe(true);
    expect(cli(['-d', db, 'export', '--format', 'json', '--sensor', 'nobody']).out).toBe('[]\n');
  });

  it('--from 24h / 7d mean "that long ago"; a bad time exits 2 naming the flag', () => {
    const dir = tempDir();
    const db = join(dir, 'db.sqlite3');
    const hour = 3_600_000;
    // One reading 1 h, 2 days and 30 days ago.
    originalDatabase(db, 1, 1, Date.now() - hour);
    const more = new Database(db);
    const ins = more.prepare("INSERT INTO ECCTempHum (recordWrittenUTC, sensorName, temperatureF) VALUES (?, 'TH0', ?)");
    ins.run(formatMicrosUTC((Date.now() - 48 * hour) * 1000), 2);
    ins.run(formatMicrosUTC((Date.now() - 720 * hour) * 1000), 30);
    more.close();
    const n = (args: string[]) => cli(['-d', db, 'export', ...args]).out.trim().split('\n').length - 1;
    expect(n(['--from', '24h'])).toBe(1);
    expect(n(['--from', '7d'])).toBe(2);
    expect(n(['--to', '7d'])).toBe(1);
    expect(n([])).toBe(3);
    const bad = cli(['-d', db, 'export', '--from', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--from must be an ISO 8601 time .*"last tuesday"/);
  });

  it('reads a gzipped archive made by the database archiver, and leaves nothing unpacked behind', async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const store = new ReadingStore(dbFile);
    store.open();
    const micros = { t: Date.UTC(2026, 3, 1) * 1000 };
    const batch: IncomingMessage[] = Array.from({ length: 1500 }, (_, i) => {
      const p = Buffer.from(payload(`S${i % 3}`, 60 + (i % 10)));
      return { topic: 'ECCTempHum', payload: p, receivedMicros: (micros.t += 1000), dup: false, result: decodePayload('ECCTempHum', p) };
    });
    store.writeBatch(batch);
    const archiver = new DatabaseArchiver(store, { maxBytes: 1024, log: silentLogger });
    const made = await archiver.check();
    await archiver.stop();
    // Ten more a day later, in the live database.
    micros.t = Date.UTC(2026, 3, 2) * 1000;
    store.writeBatch(batch.slice(0, 10).map((m) => ({ ...m, receivedMicros: (micros.t += 1000) })));
    store.close();
    expect(made?.readings).toBe(1500);
    const [archive] = listArchives(dbFile);
    expect(archive?.compressed).toBe(true);

    const r = cli(['export', archive!.file, '--format', 'ndjson', '--sensor', 'S1']);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as { sensorName: string });
    expect(rows).toHaveLength(500);
    expect(rows.every((x) => x.sensorName === 'S1')).toBe(true);
    const ndjsonRows = (args: string[]) => cli(['-d', dbFile, 'export', '--format', 'ndjson', ...args]).out.trim().split('\n').filter(Boolean).length;
    expect(ndjsonRows([])).toBe(10);
    expect(ndjsonRows(['--with-archives'])).toBe(1510);
    expect(ndjsonRows(['--with-archives', '--from', '2026-04-02'])).toBe(10); // the archive's name says it ends before --from
    expect(ndjsonRows(['--with-archives', '--to', '2026-04-02', '--sensor', 'S0'])).toBe(500);
    const back = join(dir, 'restored.sqlite3');
    expect(cli(['-d', back, 'import', archive!.file]).out).toContain('readings: 1500 added, 0 skipped');
    expect(readdirSync(dir).filter((n) => n.includes('unpacked'))).toEqual([]);
  });

  it('reads the database of a running listener (read-only), which goes on storing', async () => {
    const dir = tempDir();
    const port = await freePort();
    const listener = spawnListener(dir, port, ['--embedded-broker']);
    cleanups.push(async () => {
      listener.kill('SIGTERM');
      await listener.exited;
    });
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const log = join(dir, 'ECCMQTTIoT.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('holding'), 30_000, 'listener started');
    const auth = { username: 'reliability', password: SECRET, qos: 1 };
    await publish(port, { count: 3000, sensors: 3, prefix: 'LIVE', ...auth }).done;
    await waitFor(() => count(dbFile, 'ECCTempHum') === 3000, 30_000, '3000 readings stored');

    const more = publish(port, { count: 3000, start: 3000, sensors: 3, prefix: 'LIVE', ...auth });
    const r = cli(['-d', dbFile, 'export', '--format', 'ndjson']);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').length).toBeGreaterThanOrEqual(3000);
    await more.done;
    await waitFor(() => count(dbFile, 'ECCTempHum') === 6000, 30_000, '6000 readings stored');
    expect(listener.output()).not.toMatch(/ERROR/);
  });
});

/** Runs the launcher with its stdout already closed by the reader (what `| head` leaves behind). */
function intoClosedPipe(args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' } });
  child.stdout!.destroy(); // the reader is gone before the first byte is written
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
}

describe('output into a closed pipe', () => {
  it('`--help | head -1` prints the first line and nothing on stderr', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --help | head -1`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toBe('Usage: mqtt-iot-listener [options] [command]\n');
    expect(r.stderr).toBe('');
  });

  it('every command ends quietly (exit 0, no stack trace) when its stdout reader is gone', async () => {
    const dir = tempDir();
    const db = join(dir, 'db.sqlite3');
    originalDatabase(db, 20_000);
    const csv = join(dir, 'r.csv');
    expect(cli(['-d', db, 'export', '-o', csv]).code).toBe(0);
    const common = ['-d', db, '-l', join(dir, 'x.log')];
    const commands = [
      ['--help'],
      ['--version'],
      ['export', '--help'],
      [...common, 'check-config'],
      [...common, 'status'],
      [...common, 'status', '--json'],
      [...common, 'archive', 'list'],
      [...common, 'export'],
      [...common, 'export', '--format', 'json'],
      [...common, 'export', '--format', 'ndjson'],
      ['-d', join(dir, 'copy.sqlite3'), 'import', csv],
      [...common, 'support-bundle', '--out', join(dir, 'b.zip')],
    ];
    for (const args of commands) {
      const r = await intoClosedPipe(args);
      expect(r.err, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
    // The commands still did their work.
    expect(count(join(dir, 'copy.sqlite3'), 'ECCTempHum')).toBe(20_000);
    expect(readFileSync(join(dir, 'b.zip')).subarray(0, 2).toString()).toBe('PK');
  });

  it('a listener whose console pipe closes keeps running on its log file and stops cleanly', async () => {
    const dir = tempDir();
    const log = join(dir, 'l.log');
    const child = spawn(process.execPath, [BIN, '--embedded-broker', '--port', '0', '-d', join(dir, 'db.sqlite3'), '-l', log, '--console', '--log-level', 'debug'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' },
    });
    child.stdout!.destroy();
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('subscribed to'), 30_000, 'listener subscribed');
    expect(child.exitCode).toBe(null);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(readFileSync(log, 'utf8')).toMatch(/INFO \[app\] stopped:/);
  });
});
