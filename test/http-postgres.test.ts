// The status service and availability with -d postgres://… against a private PostgreSQL and a real
// broker: readings published over MQTT in /api/sensors and /readings (latest N, ranges, maxPoints
// buckets, fields=), a retained Tasmota LWT "Offline" shown as offline, the same answers after a
// restart, /health degraded (503) while PostgreSQL is down and ok again after, and the password in
// no response and not in the log.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ListenerApp } from '../src/app.js';
import { ensureSchema } from '../src/store/schema.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { getJson, localHttp } from './helpers/http.js';
import { pgQuery, postgresAndAedes } from './helpers/postgres.js';
import { payload, publisher, startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
const texts: string[] = [];

const rig = postgresAndAedes(cleanups);

interface Sensor {
  name: string;
  status: string;
  location: string | null;
  lastSeenUTC: string | null;
  last: Record<string, number | null> | null;
  availability: { state: string; topic: string; sinceUTC: string } | null;
}

async function get<T>(base: string, path: string): Promise<{ status: number; body: T }> {
  const r = await getJson<T>(base, path);
  texts.push(r.text);
  return r;
}

/** What must not change across a restart (ages move on with the clock). */
async function answers(base: string): Promise<unknown[]> {
  const sensors = (await get<Sensor[]>(base, '/api/sensors')).body.map(({ name, status, location, lastSeenUTC, last, availability }) => ({ name, status, location, lastSeenUTC, last, availability }));
  const out: unknown[] = [sensors];
  for (const path of [
    '/api/sensors/PGH0/readings',
    '/api/sensors/PGH1/readings?limit=7',
    `/api/sensors/${encodeURIComponent(`o'brien "x"`)}/readings?maxPoints=4`,
    '/api/sensors/PGH2/readings?maxPoints=5&fields=temperatureF,apRSSI',
    '/api/sensors/PGH0/readings?from=2000-01-01T00:00:00Z&limit=3',
  ]) {
    const r = await get<Record<string, unknown>>(base, path);
    expect(r.status, path).toBe(200);
    out.push(r.body);
  }
  return out;
}

/** The same rows for both databases: 3 sensors over 2 days, NULLs, a location row. */
function rows(): Array<[string, number | null, number | null, number | null, number | null, number | null, number | null, string]> {
  const start = Date.UTC(2026, 10, 1) * 1000;
  const out: Array<[string, number | null, number | null, number | null, number | null, number | null, number | null, string]> = [];
  for (let i = 0; i < 1500; i++) {
    const name = ['north', 'south', `o'brien "x"`][i % 3]!;
    const micros = start + i * 115_123_457;
    out.push([formatMicrosUTC(micros), 40 + (i % 7), i % 11 === 0 ? null : 60 + (i % 13) / 4, 50 + (i % 5), 3.3, 80 - (i % 9), -70 + (i % 4), name]);
  }
  return out;
}

describe('status service and availability with PostgreSQL', () => {
  it('gives the same answers as SQLite for the same rows (readings, ranges, latest N, buckets, fields=)', async () => {
    const dir = tempDir('pg-same-');
    const data = rows();
    const sqliteFile = join(dir, 'ECCTempHum.sqlite3');
    const db = new Database(sqliteFile);
    ensureSchema(db);
    const insert = db.prepare('INSERT INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage, battPercent, apRSSI, sensorName) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => data.forEach((r) => insert.run(...r)))();
    db.prepare('INSERT INTO ECCTempHumSensor VALUES (?, ?, ?, ?, ?)').run(data[0]![0], 'north', 'Roof', null, null);
    db.close();
    await pgQuery(rig.server.url(), 'CREATE DATABASE same_test');
    // A server in another time zone: the stored text is UTC whatever the session's TimeZone says.
    await pgQuery(rig.server.url(), "ALTER DATABASE same_test SET timezone = 'America/New_York'");
    const url = rig.server.url('same_test');
    // The listener creates the schema; a first run on the empty database does that.
    const first = await startedApp(dir, rig.broker.port, { dbFile: url, clientId: 'pg-same-0', logFile: join(dir, 'first.log') }, cleanups, { http: localHttp() });
    await first.stop();
    const cols = ['recordWrittenUTC', 'dewPointF', 'temperatureF', 'relHumidityPercent', 'battVoltage', 'battPercent', 'apRSSI', 'sensorName'];
    const types = ['text', 'float8', 'float8', 'float8', 'float8', 'float8', 'int', 'text'];
    await pgQuery(
      url,
      `INSERT INTO "ECCTempHum" (${cols.map((c) => `"${c}"`).join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`,
      cols.map((_, i) => data.map((r) => r[i])),
    );
    await pgQuery(url, 'INSERT INTO "ECCTempHumSensor" VALUES ($1, $2, $3, $4, $5)', [data[0]![0], 'north', 'Roof', null, null]);

    const lite = await startedApp(dir, rig.broker.port, { dbFile: sqliteFile, clientId: 'lite-same', logFile: join(dir, 'lite.log') }, cleanups, { http: localHttp() });
    const pgApp = await startedApp(dir, rig.broker.port, { dbFile: url, clientId: 'pg-same', logFile: join(dir, 'pg.log') }, cleanups, { http: localHttp() });
    const paths = [
      '/api/sensors',
      '/api/sensors/north',
      '/api/sensors/north/readings',
      '/api/sensors/south/readings?limit=37',
      '/api/sensors/south/readings?from=2026-11-01T10:00:00Z&to=2026-11-01T20:30:00.5Z',
      '/api/sensors/south/readings?from=2026-11-01T10:00:00Z&limit=5',
      `/api/sensors/${encodeURIComponent(`o'brien "x"`)}/readings?maxPoints=7`,
      '/api/sensors/north/readings?maxPoints=500',
      '/api/sensors/north/readings?maxPoints=10&from=2026-11-01T06:00:00Z&to=2026-11-02T06:00:00Z&fields=temperatureF,apRSSI',
      '/api/sensors/north/readings?maxPoints=3&from=2030-01-01T00:00:00Z',
    ];
    const strip = (body: unknown): unknown => (Array.isArray(body) ? body.map((s: Record<string, unknown>) => ({ ...s, ageSeconds: null })) : body);
    for (const path of paths) {
      const a = await get<unknown>(lite.httpService!.url, path);
      const b = await get<unknown>(pgApp.httpService!.url, path);
      expect(b.status, path).toBe(a.status);
      expect(strip(b.body), path).toEqual(strip(a.body));
    }
    const big = (await get<{ count: number }>(pgApp.httpService!.url, '/api/sensors/north/readings')).body;
    expect(big.count).toBe(500);
    const chart = (await get<{ buckets: unknown[]; bucketSeconds: number }>(pgApp.httpService!.url, '/api/sensors/north/readings?maxPoints=500')).body;
    expect(chart.buckets.length).toBeGreaterThan(100);
    expect(chart.bucketSeconds).toBeGreaterThan(1);
  }, 120_000);

  it('answers every endpoint from PostgreSQL, the same after a restart; health degraded while the server is down', async () => {
    const dir = tempDir('pg-http-');
    await pgQuery(rig.server.url(), 'CREATE DATABASE http_test');
    const url = rig.server.url('http_test');
    const pub = await publisher(rig.broker.port);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('tele/plug1/LWT', 'Offline', { qos: 1, retain: true });
    const extra = { http: localHttp(), availabilityTopics: ['tele/+/LWT'] };
    const raw = { dbFile: url, clientId: 'pg-http' };
    let app: ListenerApp = await startedApp(dir, rig.broker.port, raw, cleanups, extra);
    let base = app.httpService!.url;

    for (let i = 0; i < 300; i++) await pub.publishAsync('ECCTempHum', payload(`PGH${i % 3}`, 60 + i / 10), { qos: 1 });
    await pub.publishAsync('ECCTempHum', payload(`o'brien "x"`, 71, '&field8=Shed'), { qos: 1 });
    await pub.publishAsync('ECCTempHum', payload(`o'brien "x"`, 73), { qos: 1 });
    // Acknowledged = committed; the commit observer keeps the list current.
    await waitFor(async () => (await get<Sensor[]>(base, '/api/sensors')).body.length === 5, 15_000, 'five sensors');
    const list = (await get<Sensor[]>(base, '/api/sensors')).body;
    expect(list.map((s) => s.name)).toEqual(['PGH0', 'PGH1', 'PGH2', `o'brien "x"`, 'plug1']);
    expect(list.find((s) => s.name === 'plug1')).toMatchObject({ status: 'offline', availability: { state: 'offline', topic: 'tele/plug1/LWT' }, last: null });
    expect(list.find((s) => s.name === 'PGH2')).toMatchObject({ status: 'online', last: { temperatureF: 89.9, apRSSI: -67 } });
    expect(list.find((s) => s.name === `o'brien "x"`)!.location).toBe('Shed');
    const rows = await pgQuery<{ device: string; state: string }>(url, 'SELECT "device", "state" FROM "availability"');
    expect(rows).toEqual([{ device: 'plug1', state: 'offline' }]);

    const all = (await get<{ count: number; truncated: boolean; readings: Array<{ time: string; temperatureF: number; temperatureC: number }> }>(base, '/api/sensors/PGH0/readings')).body;
    expect(all.count).toBe(100);
    expect(all.truncated).toBe(false);
    expect(all.readings[0]!.temperatureF).toBe(60);
    expect(all.readings[99]!.temperatureF).toBe(89.7);
    expect(all.readings[0]!.time < all.readings[99]!.time).toBe(true);
    const latest = (await get<{ count: number; truncated: boolean; readings: Array<{ temperatureF: number }> }>(base, '/api/sensors/PGH1/readings?limit=7')).body;
    expect(latest).toMatchObject({ count: 7, truncated: true });
    expect(latest.readings.map((r) => r.temperatureF)).toEqual([88, 88.3, 88.6, 88.9, 89.2, 89.5, 89.8]);
    const one = (await get<{ count: number; readings: unknown[] }>(base, `/api/sensors/PGH0/readings?from=${encodeURIComponent(all.readings[10]!.time)}&to=${encodeURIComponent(all.readings[14]!.time)}`)).body;
    expect(one.readings.length).toBeGreaterThanOrEqual(4);
    const buckets = (await get<{ count: number; bucketSeconds: number; buckets: Array<Record<string, unknown> & { count: number }> }>(base, '/api/sensors/PGH2/readings?maxPoints=5')).body;
    expect(buckets.count).toBe(100);
    expect(buckets.bucketSeconds).toBeGreaterThanOrEqual(1);
    expect(buckets.buckets.reduce((n, b) => n + b.count, 0)).toBe(100);
    expect(buckets.buckets[0]).toMatchObject({ apRSSI: { min: -67, max: -67, mean: -67 }, temperatureC: { min: expect.any(Number) } });
    const subset = (await get<{ buckets: Array<Record<string, unknown>> }>(base, '/api/sensors/PGH2/readings?maxPoints=5&fields=temperatureF')).body;
    expect(Object.keys(subset.buckets[0]!).sort()).toEqual(['count', 'startUTC', 'temperatureC', 'temperatureF']);
    expect((await get(base, '/api/sensors/nobody')).status).toBe(404);
    expect((await get(base, '/api/sensors/nobody/readings')).status).toBe(404);
    expect((await get(base, '/api/alerts')).status).toBe(200);

    const health = await get<{ status: string; database: { path: string; bytes: number; writable: boolean } }>(base, '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(health.body.database.writable).toBe(true);
    expect(health.body.database.bytes).toBeGreaterThan(0);
    expect(health.body.database.path).toContain('127.0.0.1');
    expect(health.body.database.path).toContain('********');
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    texts.push(metrics);
    await waitFor(async () => /database_bytes [1-9]/.test(await fetch(`${base}/metrics`).then((r) => r.text())), 10_000, 'database_bytes in /metrics');

    const before = await answers(base);
    await app.stop();
    app = await startedApp(dir, rig.broker.port, raw, cleanups, extra);
    base = app.httpService!.url;
    expect(await answers(base)).toEqual(before);

    // PostgreSQL down: degraded (503) at once, nothing acknowledged; ok again once it is back.
    await rig.server.stop();
    await waitFor(async () => (await get<{ status: string }>(base, '/health')).status === 503, 20_000, '503 while PostgreSQL is down');
    const down = await get<{ status: string; database: { writable: boolean } }>(base, '/health');
    expect(down.body).toMatchObject({ status: 'degraded', database: { writable: false } });
    const failing = await get(base, '/api/sensors/PGH0/readings?limit=5');
    expect(failing.status).toBe(500);
    expect((await get<Sensor[]>(base, '/api/sensors')).status).toBe(200); // from memory
    await rig.server.start();
    await waitFor(async () => (await get<{ status: string }>(base, '/health')).status === 200, 30_000, 'ok after PostgreSQL is back');
    expect((await get<{ status: string }>(base, '/health')).body.status).toBe('ok');
    await pub.publishAsync('ECCTempHum', payload('PGH0', 99), { qos: 1 });
    await pub.publishAsync('tele/plug1/LWT', 'Online', { qos: 1, retain: true });
    await waitFor(async () => (await get<Sensor>(base, '/api/sensors/plug1')).body.status === 'online', 20_000, 'plug1 online');
    expect((await get<{ count: number }>(base, '/api/sensors/PGH0/readings')).body.count).toBe(101);

    await app.stop();
    for (const t of texts) expect(t).not.toContain(rig.server.password);
    const log = readFileSync(join(dir, 'test.log'), 'utf8');
    expect(log).not.toContain(rig.server.password);
    expect(log).toContain('availability: plug1 is online');
  }, 180_000);
});
