// The core path through real components: a real broker over TCP, the listener, a real SQLite file.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerApp } from '../src/app.js';
import type { RawOptions } from '../src/config.js';
import { brokerKinds, startBroker, type TestBroker } from './helpers/brokers.js';
import { count, payload, publisher, query, sleep, startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function listen(dir: string, broker: TestBroker, raw: RawOptions = {}): Promise<ListenerApp> {
  return startedApp(dir, broker.port, raw, cleanups);
}

describe.each(brokerKinds())('listener against %s', (kind) => {
  async function broker(): Promise<TestBroker> {
    const b = await startBroker(kind, { persistence: false });
    cleanups.push(() => b.stop());
    return b;
  }

  it('stores original-format payloads with the right values and a microsecond UTC timestamp', async () => {
    const dir = tempDir();
    const b = await broker();
    const app = await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    const before = Date.now();
    await pub.publishAsync('ECCTempHum', 'field1=47.10&field2=73.45&field3=39.17&field4=3.41&field5=93.53&field6=-67&field7=ECCTH01', { qos: 1 });
    const db = app.config.dbFile;
    await waitFor(() => count(db, 'ECCTempHum') === 1, 10_000, 'row stored');
    const [row] = query<Record<string, unknown>>(db, 'SELECT * FROM ECCTempHum');
    expect(row).toMatchObject({
      dewPointF: 47.1, temperatureF: 73.45, relHumidityPercent: 39.17, battVoltage: 3.41, battPercent: 93.53, apRSSI: -67, sensorName: 'ECCTH01',
    });
    const ts = String(row!['recordWrittenUTC']);
    expect(ts).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(Date.parse(`${ts.slice(0, 23).replace(' ', 'T')}Z`)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('writes a sensor metadata row for 10-field payloads, and again only on change', async () => {
    const dir = tempDir();
    const b = await broker();
    const app = await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    const meta = (loc: string, fw: string) => `&field8=${loc}&field9=98:F4:AB:DA:6E:E2&field10=${fw}`;
    for (const p of [meta('Office', 'v03.10'), meta('Office', 'v03.10'), '', meta('Office', 'v03.10'), meta('Hall', 'v03.10'), meta('Hall', 'v03.11')]) {
      await pub.publishAsync('ECCTempHum', payload('ECCTH01', 70, p), { qos: 1 });
    }
    const db = app.config.dbFile;
    await waitFor(() => count(db, 'ECCTempHum') === 6, 10_000, '6 readings');
    const rows = query<{ location: string; softwareVersion: string }>(db, 'SELECT location, softwareVersion FROM ECCTempHumSensor ORDER BY recordWrittenUTC');
    expect(rows).toEqual([
      { location: 'Office', softwareVersion: 'v03.10' },
      { location: 'Hall', softwareVersion: 'v03.10' },
      { location: 'Hall', softwareVersion: 'v03.11' },
    ]);
  });

  it("keeps growing a database created with the original's schema", async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const old = new Database(dbFile);
    old.exec(`CREATE TABLE IF NOT EXISTS ECCTempHum (recordWrittenUTC TEXT, dewPointF REAL, temperatureF REAL,
      relHumidityPercent REAL, battVoltage REAL, battPercent REAL, apRSSI INTEGER, sensorName TEXT,
      PRIMARY KEY (sensorName, recordWrittenUTC));
      CREATE INDEX sensor_idx ON ECCTempHum (sensorName);
      CREATE TABLE IF NOT EXISTS ECCTempHumSensor (recordWrittenUTC TEXT, sensorName TEXT, location TEXT,
      MACaddress TEXT, softwareVersion TEXT, PRIMARY KEY (sensorName, recordWrittenUTC));
      INSERT INTO ECCTempHum VALUES ('2020-12-01 10:00:00.123456', 40, 68, 45, 3.9, 80, -60, 'ECCTH01');
      INSERT INTO ECCTempHumSensor VALUES ('2020-12-01 10:00:00.123456', 'ECCTH01', 'Office', '98:F4:AB:DA:6E:E2', 'v03.10');`);
    old.close();
    const b = await broker();
    await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    // Same metadata as last recorded by the original: no new sensor row.
    await pub.publishAsync('ECCTempHum', payload('ECCTH01', 71, '&field8=Office&field9=98:F4:AB:DA:6E:E2&field10=v03.10'), { qos: 1 });
    await waitFor(() => count(dbFile, 'ECCTempHum') === 2, 10_000, 'second row');
    expect(count(dbFile, 'ECCTempHumSensor')).toBe(1);
    const idx = query<{ name: string }>(dbFile, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='ECCTempHum' AND sql IS NOT NULL");
    expect(idx.map((i) => i.name)).toEqual(['sensor_idx']);
  });

  it('keeps running on bad payloads and keeps each one in rejected_messages with its reason', async () => {
    const dir = tempDir();
    const b = await broker();
    const app = await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    const bad = ['', 'hello', 'field1=x&field2=1&field3=1&field4=1&field5=1&field6=1&field7=A', payload('', 70), Buffer.from([0xff, 0xfe, 0x00])];
    for (const p of bad) await pub.publishAsync('ECCTempHum', p as string, { qos: 1 });
    await pub.publishAsync('ECCTempHum', payload('GOOD01', 70), { qos: 1 });
    const db = app.config.dbFile;
    await waitFor(() => count(db, 'ECCTempHum') === 1 && count(db, 'rejected_messages') === bad.length, 10_000, 'rows and rejects');
    const reasons = query<{ reason: string; payloadEncoding: string }>(db, 'SELECT reason, payloadEncoding FROM rejected_messages ORDER BY id');
    expect(reasons.map((r) => r.reason)).toEqual([
      'empty payload',
      'unknown payload format (no decoder accepted it)',
      expect.stringMatching(/field1 .*not a number/),
      'field7 (sensor name) is missing',
      'payload is not valid UTF-8',
    ]);
    expect(reasons[4]!.payloadEncoding).toBe('hex');
  });

  it('resubscribes after the broker restarts and stores what comes next', async () => {
    const dir = tempDir();
    const b = await broker();
    const app = await listen(dir, b, {});
    const connectsBefore = app.mqtt!.stats.connects;
    await b.restart();
    await waitFor(() => app.mqtt!.stats.connects > connectsBefore && app.mqtt!.connected, 20_000, 'reconnect');
    await sleep(200);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('ECCTempHum', payload('AFTER01', 70), { qos: 1 });
    await waitFor(() => count(app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'row after broker restart');
  });

  it('stores readings published while it was stopped exactly once (persistent session, QoS 1)', async () => {
    const dir = tempDir();
    const b = await broker();
    const clientId = `persist-${Math.random().toString(36).slice(2, 8)}`;
    const first = await listen(dir, b, { clientId });
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('ECCTempHum', payload('LIVE01', 70), { qos: 1 });
    await waitFor(() => count(first.config.dbFile, 'ECCTempHum') === 1, 10_000, 'live row');
    await first.stop();
    for (let i = 0; i < 200; i++) await pub.publishAsync('ECCTempHum', payload(`OFF${i % 10}`, 60 + (i % 20)), { qos: 1 });
    const second = await listen(dir, b, { clientId });
    await waitFor(() => count(second.config.dbFile, 'ECCTempHum') === 201, 15_000, 'backlog stored');
    await sleep(300);
    expect(count(second.config.dbFile, 'ECCTempHum')).toBe(201);
  });

  it('skips retained messages unless --accept-retained', async () => {
    const dir = tempDir();
    const b = await broker();
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('ECCTempHum', payload('RET01', 70), { qos: 1, retain: true });
    const app = await listen(dir, b);
    await pub.publishAsync('ECCTempHum', payload('LIVE01', 70), { qos: 1 });
    await waitFor(() => count(app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'live row');
    await sleep(200);
    expect(query(app.config.dbFile, 'SELECT sensorName FROM ECCTempHum')).toEqual([{ sensorName: 'LIVE01' }]);
    await pub.publishAsync('ECCTempHum', '', { qos: 1, retain: true }); // clear the retained message
  });

  it('stores a burst of 5000 QoS 1 readings from 50 sensors, none lost, none twice', async () => {
    const dir = tempDir();
    const b = await broker();
    const app = await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 5000; i++) sends.push(pub.publishAsync('ECCTempHum', payload(`S${i % 50}`, 50 + (i % 40), `&seq=${i}`), { qos: 1 }));
    await Promise.all(sends);
    await waitFor(() => count(app.config.dbFile, 'ECCTempHum') >= 5000, 30_000, '5000 rows');
    await sleep(200);
    expect(count(app.config.dbFile, 'ECCTempHum')).toBe(5000);
  });
});
