// Database archive with real SQLite files: under a stream of readings published through a real
// broker (nothing lost, nothing twice, names match contents, archives pass integrity_check), and
// the start-up check, a failed archive that is retried, never overwriting an archive, and what is
// carried into the emptied database.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import type { Logger } from '../src/logging/types.js';
import { DatabaseArchiver, listArchives } from '../src/store/database-archiver.js';
import { ReadingStore, type IncomingMessage } from '../src/store/reading-store.js';
import { startAedes } from './helpers/brokers.js';
import { count, payload, publisher, query, startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const ARCHIVE = /^ECCTempHum-(\d{12})-(\d{12})(?:-(\d+))?\.sqlite3\.gz$/;

/** Gunzips an archive to a temp file and opens it read-only. */
function openArchive(path: string): Database.Database {
  const out = join(tempDir('arch-'), 'archive.sqlite3');
  writeFileSync(out, gunzipSync(readFileSync(path)));
  const db = new Database(out, { readonly: true, fileMustExist: true });
  cleanups.push(() => db.close());
  return db;
}

function minute(text: string): string {
  return text.slice(0, 16).replace(/\D/g, '');
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

function messages(from: number, n: number, micros: { t: number }, sensors = 5): IncomingMessage[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const p = Buffer.from(payload(`S${i % sensors}`, 60 + (i % 30), `&field8=Room${Math.floor(i / 400)}&field9=AA:BB&field10=v1`).replace(/field1=[^&]*/, `field1=${i % 150}`));
    return { topic: 'ECCTempHum', payload: p, receivedMicros: micros.t++, dup: false, packetId: (i % 65535) + 1, result: decodePayload('ECCTempHum', p) };
  });
}

describe('database archive', () => {
  it('under a stream of readings through a real broker: every reading once across archives + live database', async () => {
    const dir = tempDir();
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    // A few KB: every check (each 1000 stored readings) finds the database past the size.
    const app = await startedApp(dir, broker.port, { dbArchiveSize: 8192 }, cleanups);
    const pub = await publisher(broker.port);
    cleanups.push(() => pub.endAsync());

    // field2 (temperature) carries the sequence number: 20.000, 20.001, … one value per message.
    const total = 5000;
    for (let i = 0; i < total; i += 250) {
      const sends: Promise<unknown>[] = [];
      for (let k = i; k < i + 250; k++) {
        sends.push(pub.publishAsync('ECCTempHum', payload(`S${k % 20}`, 20 + k / 1000), { qos: 1 }));
      }
      await Promise.all(sends);
    }
    await waitFor(() => (app.readingWriter?.totals.stored ?? 0) >= total, 60_000, 'all readings stored');
    await app.databaseArchiver!.whenIdle();
    await app.stop();

    const dbFile = app.config.dbFile;
    const archives = readdirSync(dir).filter((n) => n.endsWith('.gz'));
    expect(archives.length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(dir).filter((n) => n.includes('archive-copy'))).toEqual([]);
    const seen: number[] = [];
    for (const name of archives) {
      const m = ARCHIVE.exec(name);
      expect(m, name).not.toBeNull();
      const db = openArchive(join(dir, name));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const span = db.prepare('SELECT MIN(recordWrittenUTC) AS first, MAX(recordWrittenUTC) AS last, COUNT(*) AS n FROM ECCTempHum').get() as {
        first: string;
        last: string;
        n: number;
      };
      expect(span.n).toBeGreaterThan(0);
      expect(m![1]).toBe(minute(span.first));
      expect(m![2]).toBe(minute(span.last));
      seen.push(...(db.prepare('SELECT temperatureF FROM ECCTempHum').pluck().all() as number[]));
    }
    seen.push(...query<{ t: number }>(dbFile, 'SELECT temperatureF AS t FROM ECCTempHum').map((r) => r.t));
    const seq = seen.map((t) => Math.round((t - 20) * 1000)).sort((a, b) => a - b);
    expect(seq).toHaveLength(total);
    expect(new Set(seq).size).toBe(total);
    expect(seq[0]).toBe(0);
    expect(seq.at(-1)).toBe(total - 1);

    // `archive list` shows them, oldest first, with their time ranges.
    const listed = listArchives(dbFile);
    expect(listed.map((e) => e.name).sort()).toEqual([...archives].sort());
    expect(listed.every((e) => e.compressed && e.bytes > 0)).toBe(true);
    const log = readFileSync(join(dir, 'test.log'), 'utf8');
    expect(log).toMatch(/INFO \[store\] archived \d+ reading\(s\) from .* to .*ECCTempHum-\d{12}-\d{12}.*\.sqlite3\.gz; the database starts over/);
  });

  it('archives at start-up; a failed archive keeps every row, logs why, and the next check succeeds', async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const store = new ReadingStore(dbFile);
    store.open();
    cleanups.push(() => store.close());
    const micros = { t: Date.UTC(2026, 10, 23, 9, 58, 30) * 1000 };
    store.writeBatch(messages(0, 1500, micros));
    const log = recordingLogger();
    const archiver = new DatabaseArchiver(store, { maxBytes: 16_384, log });
    cleanups.push(() => archiver.stop());

    // A directory where the gzip has to be written: the archive fails for real.
    mkdirSync(archiver.partialPath);
    archiver.start();
    await archiver.whenIdle();
    expect(archiver.stats.failures).toBe(1);
    expect(log.lines.some((l) => /^error could not archive .*still writing to the current database, retrying at the next check/.test(l))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.gz') || n.includes('archive-copy.'))).toEqual(['ECCTempHum.sqlite3.archive-copy.gz.partial']);
    expect(count(dbFile, 'ECCTempHum')).toBe(1500);

    // Writing goes on; the next check (after 1000 readings) retries and succeeds.
    rmdirSync(archiver.partialPath);
    store.writeBatch(messages(1500, 1000, micros));
    const ledgerBefore = query(dbFile, 'SELECT * FROM delivery_ledger ORDER BY rowid');
    expect(ledgerBefore.length).toBeGreaterThan(0);
    archiver.noteStored(1000);
    await archiver.whenIdle();
    expect(archiver.stats.archives).toBe(1);
    const [entry] = listArchives(dbFile);
    expect(entry!.name).toBe('ECCTempHum-202611230958-202611230958.sqlite3.gz');
    const archived = openArchive(entry!.file);
    expect(archived.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(archived.prepare('SELECT COUNT(*) FROM ECCTempHum').pluck().get()).toBe(2500);
    expect(count(dbFile, 'ECCTempHum')).toBe(0);

    // Carried over: the latest metadata row per sensor, the whole delivery ledger, the schema.
    const sensors = query<{ sensorName: string; location: string }>(dbFile, 'SELECT sensorName, location FROM ECCTempHumSensor ORDER BY sensorName');
    expect(sensors).toEqual(['S0', 'S1', 'S2', 'S3', 'S4'].map((s) => ({ sensorName: s, location: 'Room6' })));
    expect(query(dbFile, 'SELECT * FROM delivery_ledger ORDER BY rowid')).toEqual(ledgerBefore);
    // …so an unchanged sensor writes no new metadata row after the switch.
    store.writeBatch(messages(2500, 5, micros).map((m, k) => ({ ...m, packetId: 60_000 + k })));
    expect(count(dbFile, 'ECCTempHumSensor')).toBe(5);
    expect(count(dbFile, 'ECCTempHum')).toBe(5);
  });

  it('never overwrites an archive: a second one for the same minutes gets -2', async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const taken = join(dir, 'ECCTempHum-202611231000-202611231000.sqlite3.gz');
    writeFileSync(taken, 'an earlier archive');
    const store = new ReadingStore(dbFile);
    store.open();
    cleanups.push(() => store.close());
    const micros = { t: Date.UTC(2026, 10, 23, 10, 0, 1) * 1000 };
    store.writeBatch(messages(0, 1200, micros));
    const archiver = new DatabaseArchiver(store, { maxBytes: 16_384, log: recordingLogger() });
    cleanups.push(() => archiver.stop());
    const result = await archiver.check();
    expect(result?.file).toBe(join(dir, 'ECCTempHum-202611231000-202611231000-2.sqlite3.gz'));
    expect(readFileSync(taken, 'utf8')).toBe('an earlier archive');
    expect(listArchives(dbFile).map((e) => e.name)).toEqual([
      'ECCTempHum-202611231000-202611231000.sqlite3.gz',
      'ECCTempHum-202611231000-202611231000-2.sqlite3.gz',
    ]);
  });

  it('leaves a database under the size alone', async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const store = new ReadingStore(dbFile);
    store.open();
    cleanups.push(() => store.close());
    store.writeBatch(messages(0, 100, { t: Date.now() * 1000 }));
    const archiver = new DatabaseArchiver(store, { maxBytes: 50_000_000, log: recordingLogger() });
    cleanups.push(() => archiver.stop());
    expect(await archiver.check()).toBeUndefined();
    expect(readdirSync(dir).filter((n) => n.endsWith('.gz'))).toEqual([]);
    expect(count(dbFile, 'ECCTempHum')).toBe(100);
  });

  it('`archive list` prints each archive with its UTC time range and size', () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    writeFileSync(join(dir, 'ECCTempHum-202611200000-202611211530.sqlite3.gz'), 'x'.repeat(10));
    writeFileSync(join(dir, 'ECCTempHum-202011010000-202012010000.sqlite3'), 'y'.repeat(20)); // the original's, uncompressed
    writeFileSync(join(dir, 'unrelated.sqlite3.gz'), 'z');
    const bin = fileURLToPath(new URL('../bin/mqtt-iot-listener.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, '-d', dbFile, 'archive', 'list'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^2020-11-01 00:00 +2020-12-01 00:00 +20 .*ECCTempHum-202011010000-202012010000\.sqlite3 +\(not compressed/);
    expect(lines[2]).toMatch(/^2026-11-20 00:00 +2026-11-21 15:30 +10 .*ECCTempHum-202611200000-202611211530\.sqlite3\.gz$/);
    expect(existsSync(dbFile)).toBe(false); // listing does not create a database
  });
});
