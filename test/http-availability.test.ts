// Availability over a real broker: retained availability messages applied at subscribe time, the
// formats of Tasmota, Zigbee2MQTT (plain and JSON), ESPHome and Shelly, a Last Will fired by
// killing a publishing client's process, and the state rebuilt from the database after a restart
// (with the broker gone, so nothing but the table can answer).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ListenerApp } from '../src/app.js';
import { parseAvailability, topicMatches } from '../src/availability/availability-message.js';
import { brokerKinds, startBroker, type TestBroker } from './helpers/brokers.js';
import { getJson, localHttp } from './helpers/http.js';
import { payload, publisher, query, startedApp, tempDir, testConfig, testLogger, waitFor } from './helpers/util.js';

const LWT_CLIENT = fileURLToPath(new URL('./fixtures/lwt-client.mjs', import.meta.url));
const FILTERS = ['tele/+/LWT', 'zigbee2mqtt/+/availability', '+/status', 'shellies/+/online'];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Sensor {
  name: string;
  status: string;
  availability: { state: string; sinceUTC: string; topic: string } | null;
}

async function sensors(base: string): Promise<Map<string, Sensor>> {
  const r = await getJson<Sensor[]>(base, '/api/sensors');
  return new Map(r.body.map((s) => [s.name, s]));
}

describe('availability messages (pure)', () => {
  it.each([
    ['tele/plug1/LWT', 'Online', { device: 'plug1', state: 'online' }],
    ['tele/plug1/LWT', 'Offline', { device: 'plug1', state: 'offline' }],
    ['plug1/tele/LWT', 'Offline', { device: 'plug1', state: 'offline' }],
    ['zigbee2mqtt/hall sensor/availability', 'online', { device: 'hall sensor', state: 'online' }],
    ['zigbee2mqtt/floor1/hall/availability', '{"state":"offline"}', { device: 'floor1/hall', state: 'offline' }],
    ['esp-garden/status', 'online', { device: 'esp-garden', state: 'online' }],
    ['shellies/shellyht-AB12/online', 'false', { device: 'shellyht-AB12', state: 'offline' }],
    ['shellies/shellyht-AB12/online', 'true', { device: 'shellyht-AB12', state: 'online' }],
  ])('%s %s', (topic, text, expected) => {
    expect(parseAvailability(topic, Buffer.from(text))).toEqual(expected);
  });

  it.each([
    ['tele/plug1/LWT', 'maybe'],
    ['zigbee2mqtt/x/availability', '{"state": 3}'],
    ['zigbee2mqtt/x/availability', '{not json'],
    ['LWT', 'Online'],
  ])('%s %s is not an availability message, with a reason', (topic, text) => {
    expect(parseAvailability(topic, Buffer.from(text))).toHaveProperty('reason');
  });

  it('matches topic filters as MQTT does', () => {
    expect(topicMatches('tele/+/LWT', 'tele/a/LWT')).toBe(true);
    expect(topicMatches('tele/+/LWT', 'tele/a/b/LWT')).toBe(false);
    expect(topicMatches('zigbee2mqtt/#', 'zigbee2mqtt/a/availability')).toBe(true);
    expect(topicMatches('+/status', '$SYS/status')).toBe(false);
    expect(topicMatches('+/status', 'a/status/x')).toBe(false);
  });
});

describe.each(brokerKinds())('availability against %s', (kind) => {
  async function broker(): Promise<TestBroker> {
    const b = await startBroker(kind, { persistence: false });
    cleanups.push(() => b.stop());
    return b;
  }

  it('applies retained availability at subscribe, stores changes only, and rebuilds the state after a restart without the broker', async () => {
    const dir = tempDir();
    const b = await broker();
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    // Retained before the listener exists: only the broker's retained copies can tell it.
    await pub.publishAsync('tele/plug1/LWT', 'Offline', { qos: 1, retain: true });
    await pub.publishAsync('zigbee2mqtt/hall/availability', '{"state":"online"}', { qos: 1, retain: true });
    await pub.publishAsync('esp-garden/status', 'offline', { qos: 1, retain: true });
    await pub.publishAsync('shellies/shellyht-AB12/online', 'true', { qos: 1, retain: true });
    await pub.publishAsync('ECCTempHum', payload('hall', 70), { qos: 1 }); // not retained: stored as a reading

    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp(), availabilityTopics: FILTERS });
    const base = app.httpService!.url;
    await waitFor(async () => (await sensors(base)).size === 4, 15_000, 'four devices');
    // The reading published before the listener subscribed was not delivered (no session yet).
    await pub.publishAsync('ECCTempHum', payload('hall', 71), { qos: 1 });
    await waitFor(async () => (await sensors(base)).get('hall')?.status === 'online', 15_000, 'hall reading');
    let s = await sensors(base);
    expect(s.get('plug1')).toMatchObject({ status: 'offline', availability: { state: 'offline', topic: 'tele/plug1/LWT' } });
    expect(s.get('hall')).toMatchObject({ status: 'online', availability: { state: 'online', topic: 'zigbee2mqtt/hall/availability' } });
    expect(s.get('esp-garden')!.status).toBe('offline');
    expect(s.get('shellyht-AB12')!.status).toBe('online');
    expect(s.get('plug1')!.availability!.sinceUTC).toMatch(/Z$/);

    await pub.publishAsync('tele/plug1/LWT', 'Online', { qos: 1, retain: true });
    await pub.publishAsync('tele/plug1/LWT', 'Online', { qos: 1, retain: true }); // a repeat: no new row
    await waitFor(async () => (await sensors(base)).get('plug1')?.status === 'online', 15_000, 'plug1 online');
    const rows = () => query<{ device: string; state: string }>(app.config.dbFile, 'SELECT device, state FROM availability ORDER BY changedUTC');
    expect(rows().filter((r) => r.device === 'plug1').map((r) => r.state)).toEqual(['offline', 'online']);
    s = await sensors(base);

    // Restart with the broker down: the answer comes from the table alone, at once.
    await app.stop();
    await b.stop();
    const logger = testLogger(dir);
    const config = Object.assign(testConfig(dir, b.port), { http: localHttp(), availabilityTopics: FILTERS });
    const again = new ListenerApp(config, { logger, onFatal: () => undefined });
    cleanups.push(async () => {
      await again.stop();
      await logger.close();
    });
    await again.start();
    const after = await sensors(again.httpService!.url);
    for (const name of ['plug1', 'hall', 'esp-garden', 'shellyht-AB12']) {
      expect(after.get(name)!.availability, name).toEqual(s.get(name)!.availability);
      expect(after.get(name)!.status, name).toBe(s.get(name)!.status);
    }
  });

  it("applies more retained availability messages than the broker's queue holds (mosquitto's default 1 000)", async () => {
    const dir = tempDir();
    const b = await startBroker(kind, { persistence: false, maxQueued: 1000 });
    cleanups.push(() => b.stop());
    const pub = await publisher(b.port);
    cleanups.push(() => pub.endAsync());
    const n = 1500;
    await Promise.all(Array.from({ length: n }, (_, i) => pub.publishAsync(`tele/dev${i}/LWT`, i % 2 ? 'Online' : 'Offline', { qos: 1, retain: true })));
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp(), availabilityTopics: ['tele/+/LWT'] });
    await waitFor(() => app.availabilityTracker!.devices.size === n, 90_000, `${n} devices`);
    const s = await sensors(app.httpService!.url);
    expect(s.get('dev1')!.status).toBe('online');
    expect(s.get('dev1498')!.status).toBe('offline');
    expect(query(app.config.dbFile, 'SELECT device FROM availability')).toHaveLength(n);
  }, 180_000);

  it('marks a device offline when its process is killed and the broker fires its Last Will', async () => {
    const dir = tempDir();
    const b = await broker();
    const app = await startedApp(dir, b.port, {}, cleanups, { http: localHttp(), availabilityTopics: FILTERS });
    const base = app.httpService!.url;
    const child = spawn(process.execPath, [LWT_CLIENT, '--port', String(b.port), '--topic', 'tele/boiler/LWT'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`lwt client exited ${code}`)));
    });
    await waitFor(async () => (await sensors(base)).get('boiler')?.status === 'online', 15_000, 'boiler online');
    child.kill('SIGKILL');
    await waitFor(async () => (await sensors(base)).get('boiler')?.status === 'offline', 20_000, 'boiler offline (Last Will)');
    const one = await getJson<Sensor>(base, '/api/sensors/boiler');
    expect(one.body.availability).toMatchObject({ state: 'offline', topic: 'tele/boiler/LWT' });
  });
});
