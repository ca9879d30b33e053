// The status service end to end: readings published to a real broker (aedes and mosquitto), the
// listener storing them, and real HTTP requests answering from the database — including right
// after a restart, for stale and never-seen sensors, NULL values and awkward sensor names.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerApp } from '../src/app.js';
import type { Reading } from '../src/decoders/types.js';
import { LastReadings } from '../src/http/last-readings.js';
import type { IncomingMessage } from '../src/store/reading-store.js';
import { ensureSchema } from '../src/store/schema.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { brokerKinds, startBroker, type TestBroker } from './helpers/brokers.js';
import { AWKWARD_NAMES, getJson, getRaw, localHttp, pathSegment } from './helpers/http.js';
import { count, payload, publisher, startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Sensor {
  name: string;
  status: string;
  lastSeenUTC: string | null;
  ageSeconds: number | null;
  location: string | null;
  last: Record<string, number | null> | null;
  availability: unknown;
}

/** A database as an earlier run left it: one sensor last heard 2 h ago, one whose firmware sends no temperature. */
function seed(dbFile: string): void {
  const db = new Database(dbFile);
  ensureSchema(db);
  const twoHoursAgo = (Date.now() - 2 * 3600_000) * 1000;
  const insert = db.prepare('INSERT INTO ECCTempHum VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  insert.run(formatMicrosUTC(twoHoursAgo - 60_000_000), 40, 60, 50, 3.3, 80, -70, 'attic');
  insert.run(formatMicrosUTC(twoHoursAgo), 41, 61, 51, 3.3, 80, -70, 'attic');
  insert.run(formatMicrosUTC(Date.now() * 1000), null, null, 45, 3.1, 70, -60, 'no-temp');
  db.prepare('INSERT INTO ECCTempHumSensor VALUES (?, ?, ?, ?, ?)').run(formatMicrosUTC(twoHoursAgo), 'attic', 'Roof space', null, 'v03.10');
  db.close();
}

function withoutAges(list: Sensor[]): unknown[] {
  return list.map(({ ageSeconds: _a, ...rest }) => rest);
}

describe('last readings in memory', () => {
  const reading = (sensorName: string, temperatureF: number | null): Reading => ({
    sensorName, temperatureF, dewPointF: null, relHumidityPercent: 40, battVoltage: null, battPercent: null, apRSSI: null,
  });
  const item = (result: IncomingMessage['result'], receivedMicros: number): IncomingMessage => ({ topic: 't', payload: Buffer.from(''), receivedMicros, dup: false, result });

  it('takes single and several-reading messages, keeps the newest, skips rejections', () => {
    const last = new LastReadings();
    last.seed([{ sensorName: 'a', recordWrittenUTC: '2026-01-01 00:00:00.000000', temperatureF: 50, relHumidityPercent: 1, dewPointF: 1, battVoltage: 1, battPercent: 1, apRSSI: 1, location: 'Hall' }]);
    last.observe(1, [
      item({ kind: 'readings', readings: [reading('a', 60), reading('b', null)], decoder: 'tasmota' }, 2_000_000_000_000_000),
      item({ kind: 'reading', reading: reading('a', 40), decoder: 'ecc' }, 1_000_000_000_000_000), // older than the one above
      item({ kind: 'rejection', reason: 'bad', decoder: 'ecc' }, 3_000_000_000_000_000),
    ]);
    expect(last.get('a')).toMatchObject({ micros: 2_000_000_000_000_000, values: { temperatureF: 60 }, location: 'Hall' });
    expect(last.get('b')!.values.temperatureF).toBeNull();
    expect([...last.names()].sort()).toEqual(['a', 'b']);
  });
});

describe.each(brokerKinds())('status service against %s', (kind) => {
  async function broker(): Promise<TestBroker> {
    const b = await startBroker(kind, { persistence: false });
    cleanups.push(() => b.stop());
    return b;
  }

  async function listen(dir: string, b: TestBroker): Promise<{ app: ListenerApp; base: string }> {
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp() });
    return { app, base: app.httpService!.url };
  }

  it('answers online, stale, never seen, NULL values and awkward names; a restart gives the same answers at once', async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    seed(dbFile);
    const b = await broker();
    const { app, base } = await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    for (const name of AWKWARD_NAMES) await pub.publishAsync('ECCTempHum', payload(name, 77), { qos: 1 });
    await pub.publishAsync('ECCTempHum', payload('living room', 86), { qos: 1 });
    await waitFor(() => count(dbFile, 'ECCTempHum') === 3 + AWKWARD_NAMES.length + 1, 15_000, 'readings stored');

    const list = await getJson<Sensor[]>(base, '/api/sensors');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toContain('application/json');
    expect(list.body.map((s) => s.name).sort()).toEqual(['attic', 'no-temp', ...AWKWARD_NAMES].sort());
    const byName = new Map(list.body.map((s) => [s.name, s]));
    expect(byName.get('attic')).toMatchObject({ status: 'stale', location: 'Roof space', last: { temperatureF: 61, temperatureC: 16.11 } });
    expect(byName.get('attic')!.ageSeconds).toBeGreaterThanOrEqual(7190);
    expect(byName.get('no-temp')).toMatchObject({ status: 'online', last: { temperatureF: null, temperatureC: null, dewPointF: null, relHumidityPercent: 45 } });
    expect(byName.get('living room')).toMatchObject({ status: 'online', last: { temperatureF: 86, temperatureC: 30 }, availability: null });
    expect(byName.get('living room')!.lastSeenUTC).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    for (const name of AWKWARD_NAMES) {
      // fetch (like a browser) would turn a '..' segment, even %2E%2E, into "parent": ask with node:http as curl does.
      const one = await getRaw<Sensor>(base, `/api/sensors/${pathSegment(name)}`);
      expect(one.status, name).toBe(200);
      expect(one.body.name).toBe(name);
      const readings = await getRaw<{ readings: unknown[] }>(base, `/api/sensors/${pathSegment(name)}/readings`);
      expect(readings.body.readings.length, name).toBe(name === 'living room' ? 2 : 1);
    }
    const never = await getJson(base, `/api/sensors/${encodeURIComponent('nobody here')}`);
    expect(never).toMatchObject({ status: 404, body: { name: 'nobody here', status: 'never seen' } });
    expect(count(dbFile, 'ECCTempHum')).toBe(3 + AWKWARD_NAMES.length + 1); // the SQL-looking name dropped nothing

    await app.stop();
    const again = await listen(dir, b);
    const after = await getJson<Sensor[]>(again.base, '/api/sensors');
    expect(withoutAges(after.body)).toEqual(withoutAges(list.body));
  });

  it('serves readings by time range, limit (capped at 100 000, and says so) and min/max/mean buckets', async () => {
    const dir = tempDir();
    const b = await broker();
    const { base } = await listen(dir, b);
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    for (let i = 0; i < 10; i++) await pub.publishAsync('ECCTempHum', payload('probe', 60 + i), { qos: 1 });
    await waitFor(async () => ((await getJson<{ count: number }>(base, '/api/sensors/probe/readings')).body.count ?? 0) === 10, 15_000, '10 readings');

    const all = await getJson<{ readings: Array<{ time: string; temperatureF: number }>; truncated: boolean; limitCapped: boolean }>(base, '/api/sensors/probe/readings');
    expect(all.body.readings.map((r) => r.temperatureF)).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
    expect(all.body).toMatchObject({ truncated: false, limitCapped: false });

    const latest = await getJson<{ readings: Array<{ temperatureF: number }>; truncated: boolean }>(base, '/api/sensors/probe/readings?limit=3');
    expect(latest.body.readings.map((r) => r.temperatureF)).toEqual([67, 68, 69]);
    expect(latest.body.truncated).toBe(true);

    const times = all.body.readings.map((r) => r.time);
    const ranged = await getJson<{ readings: Array<{ temperatureF: number }> }>(base, `/api/sensors/probe/readings?from=${times[2]}&to=${times[4]}`);
    expect(ranged.body.readings.map((r) => r.temperatureF)).toEqual([62, 63, 64]);
    const firstTwo = await getJson<{ readings: Array<{ temperatureF: number }>; truncated: boolean }>(base, `/api/sensors/probe/readings?from=${times[0]}&limit=2`);
    expect(firstTwo.body.readings.map((r) => r.temperatureF)).toEqual([60, 61]);
    expect(firstTwo.body.truncated).toBe(true);
    const lastTwo = await getJson<{ readings: Array<{ temperatureF: number }>; truncated: boolean }>(base, `/api/sensors/probe/readings?from=${times[8]}&limit=2`);
    expect(lastTwo.body).toMatchObject({ truncated: false, readings: [{ temperatureF: 68 }, { temperatureF: 69 }] });

    const capped = await getJson<{ limit: number; limitCapped: boolean; limitAsked: number }>(base, '/api/sensors/probe/readings?limit=250000');
    expect(capped.body).toMatchObject({ limit: 100_000, limitCapped: true, limitAsked: 250_000 });

    const one = await getJson<{ buckets: Array<{ count: number; temperatureF: { min: number; max: number; mean: number }; temperatureC: { mean: number } }> }>(
      base,
      '/api/sensors/probe/readings?maxPoints=1',
    );
    expect(one.body.buckets).toHaveLength(1);
    expect(one.body.buckets[0]).toMatchObject({ count: 10, temperatureF: { min: 60, max: 69, mean: 64.5 }, temperatureC: { mean: 18.06 } });
    const some = await getJson<{ buckets: Array<{ count: number }> }>(base, '/api/sensors/probe/readings?maxPoints=4');
    expect(some.body.buckets.length).toBeLessThanOrEqual(4);
    expect(some.body.buckets.reduce((n, x) => n + x.count, 0)).toBe(10);
  });

  it('downsamples a day of readings into hourly min/max/mean buckets for a chart', async () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'ECCTempHum.sqlite3'));
    ensureSchema(db);
    const day = Date.parse('2026-06-01T00:00:00Z');
    const insert = db.prepare('INSERT INTO ECCTempHum VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 144; i++) insert.run(formatMicrosUTC((day + i * 600_000) * 1000), 40, i, 50, 3.3, 80, -70, 'history');
    db.close();
    const b = await broker();
    const { base } = await listen(dir, b);
    const r = await getJson<{ bucketSeconds: number; count: number; buckets: Array<{ startUTC: string; count: number; temperatureF: { min: number; max: number; mean: number } }> }>(
      base,
      '/api/sensors/history/readings?from=2026-06-01T00:00:00Z&to=2026-06-01T23:59:59Z&maxPoints=24',
    );
    expect(r.status).toBe(200);
    expect(r.body.bucketSeconds).toBe(3600);
    expect(r.body.count).toBe(144);
    expect(r.body.buckets).toHaveLength(24);
    expect(r.body.buckets[0]).toMatchObject({ startUTC: '2026-06-01T00:00:00.000Z', count: 6, temperatureF: { min: 0, max: 5, mean: 2.5 } });
    expect(r.body.buckets[23]).toMatchObject({ startUTC: '2026-06-01T23:00:00.000Z', count: 6, temperatureF: { min: 138, max: 143 } });
  });
});
