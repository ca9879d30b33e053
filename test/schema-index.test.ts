// New databases have no ECCTempHum_sensor_idx (the primary key serves every lookup by sensor);
// databases that have it keep it; and the original listener still finds an index for its queries
// on a database we created, and still writes to it (bench/children/original-listener.ts models it).
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import { ReadingStore } from '../src/store/reading-store.js';
import { startAedes, type TestBroker } from './helpers/brokers.js';
import { count, payload, query, tempDir, waitFor } from './helpers/util.js';

const ORIGINAL = fileURLToPath(new URL('../dist/bench/children/original-listener.js', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function readingIndexes(dbFile: string): string[] {
  return query<{ name: string }>(dbFile, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='ECCTempHum' ORDER BY name").map((r) => r.name);
}

/** A database as our listener creates it, with one stored reading. */
function ourDatabase(): string {
  const dbFile = join(tempDir(), 'ECCTempHum.sqlite3');
  const store = new ReadingStore(dbFile);
  store.open();
  const p = Buffer.from(payload('ECCTH01', 70, '&field8=Office&field9=98:F4:AB:DA:6E:E2&field10=v03.10'));
  store.writeBatch([{ topic: 'ECCTempHum', payload: p, receivedMicros: Date.now() * 1000, dup: false, result: decodePayload('ECCTempHum', p) }]);
  store.close();
  return dbFile;
}

function plan(dbFile: string, sql: string): string {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('ECCTH01') as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  } finally {
    db.close();
  }
}

describe('the sensorName index', () => {
  it('is not created in a new database; the primary key is the only index on readings', () => {
    const dbFile = ourDatabase();
    expect(readingIndexes(dbFile)).toEqual(['sqlite_autoindex_ECCTempHum_1']);
  });

  it("is kept in an original's database", () => {
    const dbFile = join(tempDir(), 'ECCTempHum.sqlite3');
    const db = new Database(dbFile);
    db.exec(`CREATE TABLE ECCTempHum (recordWrittenUTC TEXT, dewPointF REAL, temperatureF REAL, relHumidityPercent REAL,
      battVoltage REAL, battPercent REAL, apRSSI INTEGER, sensorName TEXT, PRIMARY KEY (sensorName, recordWrittenUTC));
      CREATE INDEX ECCTempHum_sensor_idx ON ECCTempHum (sensorName);`);
    db.close();
    const store = new ReadingStore(dbFile);
    store.open();
    store.close();
    expect(readingIndexes(dbFile)).toEqual(['ECCTempHum_sensor_idx', 'sqlite_autoindex_ECCTempHum_1']);
  });

  it("leaves the original's lookups by sensor on an index, not a table scan", () => {
    const dbFile = ourDatabase();
    for (const sql of [
      'SELECT * FROM ECCTempHum WHERE sensorName = ?',
      'SELECT * FROM ECCTempHum WHERE sensorName = ? ORDER BY recordWrittenUTC DESC LIMIT 1',
      'SELECT COUNT(*) FROM ECCTempHum WHERE sensorName = ?',
      'SELECT location, MACaddress, softwareVersion FROM ECCTempHumSensor WHERE sensorName = ? ORDER BY recordWrittenUTC DESC LIMIT 1',
    ]) {
      const detail = plan(dbFile, sql);
      expect(detail, sql).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_ECCTempHum(Sensor)?_1 \(sensorName=\?\)/);
      expect(detail, sql).not.toMatch(/^SCAN/);
    }
  });

  it('lets the original listener write to a database our listener created', async () => {
    if (!existsSync(ORIGINAL)) throw new Error(`${ORIGINAL} missing: run npm run build first`);
    const dbFile = ourDatabase();
    const broker: TestBroker = await startAedes();
    cleanups.push(() => broker.stop());
    const child = fork(ORIGINAL, [JSON.stringify({ port: broker.port, dbFile, clientId: 'original-on-ours' })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    );
    await new Promise<void>((resolve, reject) => {
      child.once('message', (m: { type?: string; message?: string }) => (m.type === 'ready' ? resolve() : reject(new Error(m.message))));
      child.once('exit', (code) => reject(new Error(`original exited with ${code}`)));
    });
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: 'pub-original' });
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('ECCTempHum', payload('ECCTH01', 71, '&field8=Hall&field9=98:F4:AB:DA:6E:E2&field10=v03.10'), { qos: 0 });
    await pub.publishAsync('ECCTempHum', payload('ECCTH02', 72), { qos: 0 });
    await waitFor(() => count(dbFile, 'ECCTempHum') === 3, 15_000, "the original's two rows");
    expect(query(dbFile, 'SELECT sensorName, temperatureF FROM ECCTempHum ORDER BY recordWrittenUTC')).toEqual([
      { sensorName: 'ECCTH01', temperatureF: 70 },
      { sensorName: 'ECCTH01', temperatureF: 71 },
      { sensorName: 'ECCTH02', temperatureF: 72 },
    ]);
    // Location changed from Office to Hall: the original added a sensor row, as it always did.
    expect(count(dbFile, 'ECCTempHumSensor')).toBe(2);
  });
});
