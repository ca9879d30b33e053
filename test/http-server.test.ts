// The status service's edges: a table of bad requests (404 / 400 naming the parameter / 405), HTTP
// Basic auth when bound beyond loopback, exit 2 for an unsafe bind or a taken port, /health's 503
// when MQTT has been down longer than the watchdog period, /metrics in Prometheus form, and no
// secret in any answer or log line.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ListenerApp } from '../src/app.js';
import { ensureSchema } from '../src/store/schema.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { startAedes, freePort, type TestBroker } from './helpers/brokers.js';
import { sendJson } from '../src/http/routes.js';
import { getJson, getRaw, localHttp } from './helpers/http.js';
import { BIN } from './helpers/processes.js';
import { payload, publisher, startedApp, tempDir, testConfig, testLogger, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function aedes(): Promise<TestBroker> {
  const b = await startAedes();
  cleanups.push(() => b.stop());
  return b;
}

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('status service: bad requests', () => {
  it('answers every bad request with JSON and its reason, and keeps storing readings', async () => {
    const dir = tempDir();
    const b = await aedes();
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp() });
    const base = app.httpService!.url;
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('ECCTempHum', payload('s1', 70), { qos: 1 });
    await waitFor(async () => (await getJson(base, '/api/sensors/s1')).status === 200, 15_000, 's1 stored');

    const table: Array<[string, number, Record<string, unknown>]> = [
      ['/nope', 404, { error: 'no such path: /nope' }],
      ['/api/sensors/s1/readings/extra', 404, {}],
      ['/api/sensors/nobody', 404, { status: 'never seen', name: 'nobody' }],
      ['/api/sensors/nobody/readings', 404, { status: 'never seen' }],
      ['/api/sensors/s1/readings?from=yesterday', 400, { parameter: 'from' }],
      ['/api/sensors/s1/readings?to=2026-13-45T00:00:00Z', 400, { parameter: 'to' }],
      ['/api/sensors/s1/readings?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 400, { parameter: 'from' }],
      ['/api/sensors/s1/readings?limit=0', 400, { parameter: 'limit' }],
      ['/api/sensors/s1/readings?limit=-5', 400, { parameter: 'limit' }],
      ['/api/sensors/s1/readings?limit=ten', 400, { parameter: 'limit' }],
      ['/api/sensors/s1/readings?limit=1.5', 400, { parameter: 'limit' }],
      ['/api/sensors/s1/readings?maxPoints=0', 400, { parameter: 'maxPoints' }],
      ['/api/sensors/s1/readings?maxPoints=99999999', 400, { parameter: 'maxPoints' }],
      ['/api/sensors/%E0%A4%A/readings', 400, { parameter: 'name' }],
      ['/api/sensors/%FF', 400, { parameter: 'name' }],
    ];
    for (const [path, status, body] of table) {
      const r = await getRaw<Record<string, unknown>>(base, path);
      expect(r.status, path).toBe(status);
      expect(r.headers.get('content-type'), path).toContain('application/json');
      expect(r.body, path).toMatchObject(body);
      expect(typeof r.body['error'], path).toBe('string');
    }
    const post = await fetch(`${base}/api/sensors`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');

    // A client that sends headers slowly, and one with a huge header, do not stop ingestion.
    const { connect } = await import('node:net');
    const slow = connect(app.httpService!.port, '127.0.0.1');
    cleanups.push(() => slow.destroy());
    slow.write('GET /api/sensors HTTP/1.1\r\nHost: x\r\n');
    const huge = (await fetch(`${base}/api/sensors`, { headers: { 'X-Big': 'a'.repeat(64 * 1024) } })).status;
    expect(huge).toBe(431);
    await pub.publishAsync('ECCTempHum', payload('s2', 71), { qos: 1 });
    await waitFor(async () => (await getJson(base, '/api/sensors/s2')).status === 200, 15_000, 's2 stored beside a slow client');
  });
});

describe('status service: big answers', () => {
  it('caps readings at 100 000 (the latest ones) and says the answer was truncated', async () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'ECCTempHum.sqlite3'));
    ensureSchema(db);
    const insert = db.prepare('INSERT INTO ECCTempHum VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const t0 = Date.parse('2026-01-01T00:00:00Z') * 1000;
    db.transaction(() => {
      for (let i = 0; i < 100_005; i++) insert.run(formatMicrosUTC(t0 + i * 1_000_000), 40, i, 50, 3.3, 80, -70, 'busy');
    })();
    db.close();
    const b = await aedes();
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp() });
    type Answer = { count: number; truncated: boolean; limit: number; readings: Array<{ temperatureF: number }> };
    const latest = await getJson<Answer>(app.httpService!.url, '/api/sensors/busy/readings');
    expect(latest.body).toMatchObject({ count: 100_000, truncated: true, limit: 100_000 });
    expect(latest.body.readings[0]!.temperatureF).toBe(5);
    expect(latest.body.readings.at(-1)!.temperatureF).toBe(100_004);
  }, 180_000);
});

describe('status service: plugging in', () => {
  it("takes another feature's routes (as /api/alerts is) and a fallback for what no route knows (the web page)", async () => {
    const dir = tempDir();
    const b = await aedes();
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp() });
    const http = app.httpService!;
    http.addRoutes([{ method: 'GET', path: '/api/example', handle: ({ res }) => sendJson(res, 200, [{ sensor: 'x' }]) }]);
    http.addFallback((req, res) => {
      if (req.url !== '/extra') return false;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<h1>extra</h1>');
      return true;
    });
    expect((await getJson(http.url, '/api/example')).body).toEqual([{ sensor: 'x' }]);
    // Fallbacks are asked in turn: the web page's own answers '/', this one '/extra', none '/nothing.js'.
    const extra = await getJson(http.url, '/extra');
    expect(extra).toMatchObject({ status: 200, text: '<h1>extra</h1>' });
    expect((await getJson(http.url, '/')).status).toBe(200);
    expect((await getJson(http.url, '/nothing.js')).status).toBe(404);
    expect((await getJson(http.url, '/health')).status).toBe(200);
  });
});

describe('status service: auth and binding', () => {
  it('beyond loopback: every path asks for HTTP Basic auth, the right password opens it, and it never shows in answers or the log', async () => {
    const dir = tempDir();
    const b = await aedes();
    const auth = { user: 'admin', password: 'Http-S3cret-Pw!' };
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp({ host: '0.0.0.0', auth }) });
    const base = `http://127.0.0.1:${app.httpService!.port}`;
    for (const path of ['/health', '/metrics', '/api/sensors', '/api/sensors/x', '/nope']) {
      const r = await getJson(base, path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate'), path).toMatch(/^Basic realm=/);
    }
    expect((await getJson(base, '/api/sensors', { user: 'admin', password: 'wrong' })).status).toBe(401);
    expect((await getJson(base, '/api/sensors', { user: 'root', password: auth.password })).status).toBe(401);
    const ok = await getJson(base, '/health', auth);
    expect(ok.status).toBe(200);
    const metrics = await getJson(base, '/metrics', auth);
    expect(metrics.status).toBe(200);
    for (const text of [ok.text, metrics.text, readFileSync(join(dir, 'test.log'), 'utf8')]) {
      expect(text).not.toContain(auth.password);
      expect(text).not.toContain(Buffer.from(`admin:${auth.password}`).toString('base64'));
    }
  });

  it('exits 2 with one line: beyond loopback without auth, a bad auth file, a port in use', async () => {
    const dir = tempDir();
    const common = ['-d', join(dir, 'db.sqlite3'), '-l', join(dir, 'log.txt'), '--no-console', '--embedded-broker', '--port', String(await freePort())];
    const open = await runCli([...common, '--http', '0.0.0.0:0']);
    expect(open.code).toBe(2);
    expect(open.output.trim().split('\n')).toHaveLength(1);
    expect(open.output).toMatch(/--http-auth/);

    writeFileSync(join(dir, 'auth.txt'), 'no-colon-here\n');
    const bad = await runCli([...common, '--http', '0.0.0.0:0', '--http-auth', join(dir, 'auth.txt')]);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/user:password/);

    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => taken.close(() => r(undefined))));
    const port = (taken.address() as { port: number }).port;
    const busy = await runCli([...common, '--http', String(port)]);
    expect(busy.code).toBe(2);
    expect(busy.output.trim().split('\n')).toHaveLength(1);
    expect(busy.output).toContain(`port ${port}`);
    expect(busy.output).toContain('already in use');

    writeFileSync(join(dir, 'auth.txt'), 'admin:pw-on-file\n');
    chmodSync(join(dir, 'auth.txt'), 0o600);
    const shown = await runCli(['check-config', ...common, '--http', '0.0.0.0:8080', '--http-auth', join(dir, 'auth.txt')]);
    expect(shown.code).toBe(0);
    expect(shown.output).not.toContain('pw-on-file');
  });
});

describe('status service: health and metrics', () => {
  it('/health says 503 once MQTT has been down longer than the watchdog period, 200 when connected', async () => {
    const dir = tempDir();
    const deadPort = await freePort();
    const logger = testLogger(dir);
    // -t 0.01 min: a 0.6 s watchdog period.
    const app = new ListenerApp(Object.assign(testConfig(dir, deadPort, { timerCheckMinutes: 0.01 }), { http: localHttp() }), { logger, onFatal: () => undefined });
    cleanups.push(async () => {
      await app.stop();
      await logger.close();
    });
    await app.start();
    const base = app.httpService!.url;
    await waitFor(async () => (await getJson(base, '/health')).status === 503, 15_000, '503');
    const down = await getJson<Record<string, Record<string, unknown>>>(base, '/health');
    expect(down.body['status']).toBe('degraded');
    expect(down.body['mqtt']).toMatchObject({ connected: false, broker: `mqtt://127.0.0.1:${deadPort}` });
    expect(down.body['database']).toMatchObject({ writable: true });

    const dir2 = tempDir();
    const b = await aedes();
    const up = await startedApp(dir2, b.port, {}, cleanups, { http: localHttp() });
    const ok = await getJson<Record<string, Record<string, unknown>>>(up.httpService!.url, '/health');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'ok', mqtt: { connected: true }, database: { writable: true, path: up.config.dbFile }, watchdog: { restarts: 0 } });
    expect(ok.body['database']!['bytes']).toBeGreaterThan(0);
  });

  it('/metrics counts what was received, stored and committed, with commit and latency histograms', async () => {
    const dir = tempDir();
    const b = await aedes();
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp() });
    const base = app.httpService!.url;
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    for (let i = 0; i < 5; i++) await pub.publishAsync('ECCTempHum', payload(`m${i}`, 70), { qos: 1 });
    await pub.publishAsync('ECCTempHum', 'garbage=1', { qos: 1 });
    const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    await waitFor(async () => value((await getJson(base, '/metrics')).text, 'mqtt_iot_listener_readings_stored_total') === 5, 15_000, '5 stored');
    const m = await getJson(base, '/metrics');
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(value(m.text, 'mqtt_iot_listener_messages_received_total')).toBe(6);
    expect(value(m.text, 'mqtt_iot_listener_messages_rejected_total')).toBe(1);
    expect(value(m.text, 'mqtt_iot_listener_mqtt_connected')).toBe(1);
    expect(value(m.text, 'mqtt_iot_listener_pending_messages')).toBe(0);
    expect(value(m.text, 'mqtt_iot_listener_commits_total')).toBeGreaterThanOrEqual(1);
    expect(value(m.text, 'mqtt_iot_listener_receipt_to_commit_seconds_count')).toBe(6);
    expect(value(m.text, 'mqtt_iot_listener_commit_duration_seconds_count')).toBe(value(m.text, 'mqtt_iot_listener_commits_total'));
    expect(value(m.text, 'mqtt_iot_listener_database_bytes')).toBeGreaterThan(0);
    expect(m.text).toMatch(/^process_cpu_seconds_total /m);
    expect(m.text).toMatch(/# TYPE mqtt_iot_listener_readings_stored_total counter/);
    expect(m.text).not.toMatch(/m0|sensor=/); // no per-sensor labels
  });
});
