// PostgreSQL storage (-d postgres://…) against a real, private PostgreSQL server and a real broker:
// the same tables as SQLite, readings acknowledged only after their commit, a server restart in
// the middle of a stream losing and doubling nothing, and the password kept out of every output.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { gzipFileVerified } from '../src/gzip.js';
import { BIN } from './helpers/processes.js';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig } from '../src/config.js';
import { freePort } from './helpers/brokers.js';
import { readIfExists } from './helpers/service.js';
import { pgCounts, pgQuery, postgresAndAedes } from './helpers/postgres.js';
import { payload, startedApp, tempDir, testConfig, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];

const rig = postgresAndAedes(cleanups);

describe('PostgreSQL storage', () => {
  it('stores readings in the original tables (case kept), sensor rows and rejects, acknowledged after commit', async () => {
    const dir = tempDir('pg-');
    const url = rig.server.url();
    const app = await startedApp(dir, rig.broker.port, { dbFile: url, clientId: 'pg-a' }, cleanups);
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.broker.port, clientId: 'pg-pub-a' });
    for (let i = 0; i < 200; i++) await pub.publishAsync('ECCTempHum', payload(`PG${i % 5}`, 60 + i / 10), { qos: 1 });
    await pub.publishAsync('ECCTempHum', payload('PGMETA', 70, '&field8=Office&field9=98:F4:AB:DA:6E:E2&field10=v03.10'), { qos: 1 });
    await pub.publishAsync('ECCTempHum', 'field1=abc&field7=BAD', { qos: 1 });
    await pub.endAsync();
    // PUBACK came back for each publishAsync: every acknowledged message is committed by now.
    const tables = await pgQuery<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    expect(tables.map((t) => t.table_name)).toEqual(['ECCTempHum', 'ECCTempHumSensor', 'delivery_ledger', 'qos2_incoming', 'rejected_messages']);
    const [n] = await pgQuery<{ n: string }>(url, 'SELECT COUNT(*) AS n FROM "ECCTempHum"');
    expect(Number(n!.n)).toBe(201);
    const rows = await pgQuery<{ recordWrittenUTC: string; temperatureF: number; apRSSI: number }>(
      url,
      'SELECT "recordWrittenUTC", "temperatureF", "apRSSI" FROM "ECCTempHum" WHERE "sensorName" = $1 ORDER BY "recordWrittenUTC"',
      ['PG0'],
    );
    expect(rows).toHaveLength(40);
    expect(rows[0]!.recordWrittenUTC).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(rows[0]!.temperatureF).toBe(60);
    expect(rows[0]!.apRSSI).toBe(-67);
    const sensors = await pgQuery(url, 'SELECT "sensorName", "location", "MACaddress", "softwareVersion" FROM "ECCTempHumSensor"');
    expect(sensors).toEqual([{ sensorName: 'PGMETA', location: 'Office', MACaddress: '98:F4:AB:DA:6E:E2', softwareVersion: 'v03.10' }]);
    const rejects = await pgQuery<{ reason: string }>(url, 'SELECT "reason" FROM "rejected_messages"');
    expect(rejects).toHaveLength(1);
    expect(app.readingWriter!.totals.stored).toBe(201);
    const log = readFileSync(join(dir, 'test.log'), 'utf8');
    expect(log).toContain('(PostgreSQL)');
    expect(log).not.toContain(rig.server.password);
  });

  it('a PostgreSQL restart in the middle of a QoS 1 stream: nothing lost, nothing stored twice, storing resumes by itself', async () => {
    const dir = tempDir('pg-restart-');
    const url = rig.server.url();
    await pgQuery(url, 'CREATE DATABASE restart_test');
    const dbUrl = rig.server.url('restart_test');
    const app = await startedApp(dir, rig.broker.port, { dbFile: dbUrl, clientId: 'pg-restart' }, cleanups);
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.broker.port, clientId: 'pg-pub-restart', reconnectPeriod: 200 });
    const total = 3000;
    const sent: Array<Promise<unknown>> = [];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < total; i++) {
      sent.push(pub.publishAsync('ECCTempHum', payload(`RS${i}`, 70), { qos: 1 }));
      if (i === 1000) restarted = rig.server.restart();
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await restarted;
    await Promise.all(sent);
    await pub.endAsync();
    await waitFor(async () => (await pgCounts(dbUrl)).stored >= total, 60_000, 'all readings stored after the restart');
    const c = await pgCounts(dbUrl);
    expect(c).toEqual({ stored: total, distinct: total, duplicates: 0 });
    expect(app.readingWriter!.totals.failedCommits).toBeGreaterThan(0);
    const log = readFileSync(join(dir, 'test.log'), 'utf8');
    expect(log).toMatch(/database writable again/);
    expect(log).not.toContain(rig.server.password);
  });

  it('refuses a share group with SQLite, and check-config masks the PostgreSQL password', () => {
    const dir = tempDir('pg-cfg-');
    expect(() => testConfig(dir, 1883, { shareGroup: 'listeners' })).toThrow(ConfigError);
    expect(() => testConfig(dir, 1883, { shareGroup: 'listeners' })).toThrow(/PostgreSQL|postgres/);
    expect(() => testConfig(dir, 1883, { dbFile: 'postgres://u:p@127.0.0.1:5432/' })).toThrow(/names no database/);
    const config = testConfig(dir, 1883, { dbFile: rig.server.url(), shareGroup: 'listeners' });
    const shown = JSON.stringify(describeConfig(config));
    expect(shown).not.toContain(rig.server.password);
    expect(shown).toContain('postgres://listener:********@127.0.0.1');
  });
});

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('PostgreSQL unreachable at start', () => {
  it('waits for the server with retries (logged, password hidden), and SIGTERM during the wait exits 0 at once', async () => {
    const dir = tempDir('pg-wait-');
    const closed = await freePort();
    const log = join(dir, 'l.log');
    const child = spawn(process.execPath, [BIN, '-b', '127.0.0.1', '--port', String(rig.broker.port), '-d', `postgres://listener:Hidden-Pw-99@127.0.0.1:${closed}/x`, '-l', log, '--no-console', '--log-level', 'info'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => (readIfExists(log).match(/cannot open the database/g) ?? []).length >= 2, 30_000, 'two connection attempts logged');
    const sent = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(readIfExists(log)).toMatch(/retrying in \d+ s \(attempt 2\)/);
    expect(readIfExists(log) + out).not.toContain('Hidden-Pw-99');
  });
});

describe('migrate', () => {
  it('copies an original listener database and one of our archives into PostgreSQL; run twice, it adds nothing', async () => {
    const dir = tempDir('pg-migrate-');
    await pgQuery(rig.server.url(), 'CREATE DATABASE migrate_test');
    const url = rig.server.url('migrate_test');
    // A database as the original created it (its extra index included), 12 000 readings.
    const file = join(dir, 'ECCTempHum.sqlite3');
    const db = new Database(file);
    db.exec(`CREATE TABLE ECCTempHum (recordWrittenUTC TEXT, dewPointF REAL, temperatureF REAL, relHumidityPercent REAL,
      battVoltage REAL, battPercent REAL, apRSSI INTEGER, sensorName TEXT, PRIMARY KEY (sensorName, recordWrittenUTC));
      CREATE INDEX sensor_idx ON ECCTempHum (sensorName);
      CREATE TABLE ECCTempHumSensor (recordWrittenUTC TEXT, sensorName TEXT, location TEXT, MACaddress TEXT, softwareVersion TEXT,
      PRIMARY KEY (sensorName, recordWrittenUTC));`);
    const ins = db.prepare('INSERT INTO ECCTempHum VALUES (?, 47.1, ?, 39.17, 3.41, 93.53, -67, ?)');
    db.transaction(() => {
      for (let i = 0; i < 12_000; i++) ins.run(`2021-01-01 00:${String(Math.floor(i / 600) % 60).padStart(2, '0')}:${String(Math.floor(i / 10) % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}`, 60 + (i % 20), `ORIG${i % 10}`);
      db.prepare("INSERT INTO ECCTempHumSensor VALUES ('2021-01-01 00:00:00.000000', 'ORIG1', 'Office', '98:F4:AB:DA:6E:E2', 'v03.10')").run();
    })();
    db.close();
    const first = cli(['migrate', '--from', file, '--to', url]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('readings 12000 added, 0 skipped; sensor rows 1 added, 0 skipped');
    const [n] = await pgQuery<{ n: string }>(url, 'SELECT COUNT(*) AS n FROM "ECCTempHum"');
    expect(Number(n!.n)).toBe(12_000);
    const again = cli(['migrate', '--from', file, '--to', url]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('readings 0 added, 12000 skipped; sensor rows 0 added, 1 skipped');
    // One of our gzipped archives: the same rows plus one more, so exactly one is added.
    const extra = new Database(file);
    extra.prepare("INSERT INTO ECCTempHum VALUES ('2022-02-02 02:02:02.000000', 1, 2, 3, 4, 5, -60, 'NEWONE')").run();
    extra.close();
    await gzipFileVerified(file, `${file}.gz`);
    const archive = cli(['migrate', '--from', `${file}.gz`, '--to', url]);
    expect(archive.code).toBe(0);
    expect(archive.out).toContain('readings 1 added, 12000 skipped');
    for (const r of [first, again, archive]) expect(`${r.out}${r.err}`).not.toContain(rig.server.password);
  });

  it('a file that is not a database, a missing file and a wrong password: exit 2 with one line, password not shown', () => {
    const dir = tempDir('pg-migrate-bad-');
    const junk = join(dir, 'junk.sqlite3');
    writeFileSync(junk, 'this is not a database at all, just text '.repeat(100));
    const notDb = cli(['migrate', '--from', junk, '--to', rig.server.url()]);
    expect(notDb.code).toBe(2);
    expect(notDb.err.trim().split('\n')).toHaveLength(1);
    expect(notDb.err).toMatch(/cannot read it as a listener database/);
    const missing = cli(['migrate', '--from', join(dir, 'nope.sqlite3'), '--to', rig.server.url()]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no such file/);
    const file = join(dir, 'ok.sqlite3');
    new Database(file).exec('CREATE TABLE ECCTempHum (recordWrittenUTC TEXT, sensorName TEXT)').close();
    const badUrl = rig.server.url().replace(rig.server.password, 'wrong-Secret-77');
    const wrongPw = cli(['migrate', '--from', file, '--to', badUrl]);
    expect(wrongPw.code).toBe(2);
    expect(wrongPw.err).toMatch(/cannot connect/);
    expect(wrongPw.err).not.toContain('wrong-Secret-77');
  });
});
