// Issue 20: the embedded broker lets in only who it knows, and devices may only publish readings.
// Real sockets throughout: the listener's own aedes broker, MQTT.js clients as devices, the
// readings in a real SQLite file, and the real launcher for the exit-2 refusal.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerApp } from '../src/app.js';
import { hashPassword } from '../src/mqtt/broker-users.js';
import { freePort } from './helpers/brokers.js';
import { kill, launch, listenerArgs } from './helpers/service.js';
import { localHttp } from './helpers/http.js';
import { count, payload, startedApp, tempDir, waitFor } from './helpers/util.js';

const LISTENER_PW = 'Listener-Pw-41x';
const HALL_PW = 'Hall-Plain-Pw-77';
const ATTIC_PW = 'Attic-Hashed-Pw-88';
const DASH_PW = 'Dash-Pw-55q';
const PASSWORDS = [LISTENER_PW, HALL_PW, ATTIC_PW, DASH_PW];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function file(dir: string, name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, 0o600);
  return f;
}

async function device(port: number, username: string | undefined, password: string | undefined, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    clientId,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  });
  cleanups.push(() => client.endAsync(true));
  return client;
}

/** The SUBACK codes per filter (128 = refused); MQTT.js rejects when one is refused. */
async function subscribeCodes(client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<Record<string, number>> {
  let granted: Array<{ topic?: string; qos: number }>;
  try {
    granted = await client.subscribeAsync(filters, { qos });
  } catch (err) {
    const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!codes) throw err;
    granted = codes.map((c, i) => ({ topic: filters[i]!, qos: c }));
  }
  return Object.fromEntries(granted.map((g, i) => [g.topic ?? filters[i]!, g.qos]));
}

/** The CONNACK refusal code of a login, or 0 if it was accepted. */
async function loginResult(port: number, username: string | undefined, password: string | undefined): Promise<number> {
  try {
    await device(port, username, password, `probe-${Math.random().toString(36).slice(2, 8)}`);
    return 0;
  } catch (err) {
    return Number((err as { code?: number }).code ?? -1);
  }
}

describe('embedded broker with users and an ACL', () => {
  let dir: string;
  let port: number;
  let app: ListenerApp;
  let atticHash: string;

  beforeAll(async () => {
    atticHash = await hashPassword(ATTIC_PW);
  });

  async function start(extra: { maxPacketBytes?: number; maxClients?: number } = {}, availabilityTopics: string[] = []): Promise<void> {
    dir = tempDir('broker-access-');
    port = await freePort();
    const users = file(dir, 'users.txt', `# devices\n\nsensor-hall:${HALL_PW}\nsensor-attic:${atticHash}\ndashboard:${DASH_PW}\n`);
    const acl = file(dir, 'acl.txt', '# every device may read its settings\ntopic read devices/+/config\n\nuser dashboard\ntopic read ECCTempHum\n');
    const creds = file(dir, 'listener-creds.txt', `listener,${LISTENER_PW}\n`);
    app = await startedApp(
      dir,
      port,
      { embeddedBroker: true, embeddedBrokerHost: '127.0.0.1', credentialsFile: creds, brokerAccess: { usersFile: users, aclFile: acl, ...extra } },
      cleanups,
      { availabilityTopics, http: localHttp() },
    );
  }

  const log = (): string => readFileSync(join(dir, 'test.log'), 'utf8');
  const db = (): string => join(dir, 'ECCTempHum.sqlite3');

  it('refuses anonymous, unknown users and wrong passwords; a device publishes and its reading is stored', async () => {
    await start();
    expect(await loginResult(port, undefined, undefined)).toBe(4);
    expect(await loginResult(port, 'sensor-hall', 'not-the-password')).toBe(4);
    expect(await loginResult(port, 'sensor-attic', HALL_PW)).toBe(4);
    expect(await loginResult(port, 'nobody', HALL_PW)).toBe(4);
    expect(app.embeddedBroker!.counters.refusedLogins).toBe(4);
    const metrics = await (await fetch(`http://127.0.0.1:${app.httpService!.port}/metrics`)).text();
    expect(metrics).toMatch(/^mqtt_iot_listener_embedded_broker_refused_total\{what="login"\} 4$/m);
    expect(metrics).toMatch(/^mqtt_iot_listener_embedded_broker_refused_total\{what="oversized_packet"\} 0$/m);

    const attic = await device(port, 'sensor-attic', ATTIC_PW, 'attic-1'); // scrypt hash in the file
    await attic.publishAsync('ECCTempHum', payload('ATTIC01', 68.2), { qos: 1 });
    const hall = await device(port, 'sensor-hall', HALL_PW, 'hall-1'); // plain password in the file
    await hall.publishAsync('ECCTempHum', payload('HALL01', 71.5), { qos: 1 });
    await waitFor(() => count(db(), 'ECCTempHum') === 2, 15_000, 'both readings stored');
    expect(log()).toMatch(/refused login of client probe-\w+ \(user sensor-hall from 127\.0\.0\.1\): wrong password/);
  });

  it('a device may not subscribe to # or to the readings, only where the ACL lets it; the ACL-named user may read them', async () => {
    await start();
    const hall = await device(port, 'sensor-hall', HALL_PW, 'hall-sub');
    expect(await subscribeCodes(hall, ['#', 'ECCTempHum', 'devices/hall/config', 'other/+'])).toEqual({ '#': 128, ECCTempHum: 128, 'devices/hall/config': 1, 'other/+': 128 });
    expect(app.embeddedBroker!.counters.refusedSubscriptions).toBe(3);
    // Logged once for this client, with the reason; the later refusals only counted.
    expect(log().match(/refused subscribe .* from client hall-sub/g)).toHaveLength(1);
    expect(log()).toMatch(/refused subscribe to # from client hall-sub \(user sensor-hall from 127\.0\.0\.1\): the ACL does not let user sensor-hall read #/);

    const dash = await device(port, 'dashboard', DASH_PW, 'dash-1');
    expect(await subscribeCodes(dash, ['ECCTempHum'])).toEqual({ ECCTempHum: 1 });
    const seen = new Promise<string>((resolve) => dash.once('message', (_t, p) => resolve(p.toString())));
    const attic = await device(port, 'sensor-attic', ATTIC_PW, 'attic-2');
    await attic.publishAsync('ECCTempHum', payload('ATTIC02', 66.0), { qos: 1 });
    expect(await seen).toContain('ATTIC02');
    await waitFor(() => count(db(), 'ECCTempHum') === 1, 15_000, 'the reading stored');
  });

  it('a device may publish only to the topics the listener reads: anything else closes its connection and is counted', async () => {
    await start({}, ['devices/+/status']);
    const hall = await device(port, 'sensor-hall', HALL_PW, 'hall-pub');
    await hall.publishAsync('devices/hall/status', 'online', { qos: 1, retain: true }); // an availability topic: allowed
    expect(app.embeddedBroker!.counters.refusedPublishes).toBe(0);
    const closed = new Promise<void>((resolve) => hall.once('close', () => resolve()));
    hall.publish('ECCTempHum/../fake', payload('FAKE01', 1), { qos: 1 });
    await closed;
    await waitFor(() => app.embeddedBroker!.counters.refusedPublishes === 1, 10_000, 'refusal counted');
    expect(log()).toMatch(/refused publish to ECCTempHum\/\.\.\/fake from client hall-pub \(user sensor-hall from 127\.0\.0\.1\): the listener does not read/);
    expect(count(db(), 'ECCTempHum')).toBe(0);
  });

  it('an oversized packet closes that connection; the listener keeps storing', async () => {
    await start({ maxPacketBytes: 4096 });
    const hall = await device(port, 'sensor-hall', HALL_PW, 'hall-big');
    const closed = new Promise<void>((resolve) => hall.once('close', () => resolve()));
    hall.publish('ECCTempHum', payload('BIG01', 70, `&pad=${'x'.repeat(100_000)}`), { qos: 1 });
    await closed;
    expect(app.embeddedBroker!.counters.oversizedPackets).toBe(1);
    expect(log()).toMatch(/it sent a packet of \d+ bytes, over the limit of 4096/);
    const attic = await device(port, 'sensor-attic', ATTIC_PW, 'attic-3');
    await attic.publishAsync('ECCTempHum', payload('ATTIC03', 69.9), { qos: 1 });
    await waitFor(() => count(db(), 'ECCTempHum') === 1, 15_000, 'the next reading stored');
    expect(app.mqtt!.connected).toBe(true);
  });

  it('SIGHUP (reload) re-reads the users file: a new device gets in; a broken file keeps the current users', async () => {
    await start();
    expect(await loginResult(port, 'sensor-cellar', 'Cellar-Pw-12')).toBe(4);
    const users = join(dir, 'users.txt');
    writeFileSync(users, `${readFileSync(users, 'utf8')}sensor-cellar:Cellar-Pw-12\n`);
    await app.reload();
    expect(await loginResult(port, 'sensor-cellar', 'Cellar-Pw-12')).toBe(0);
    writeFileSync(users, 'no colon here\n');
    await app.reload();
    expect(log()).toMatch(/ERROR \[broker\] keeping the current broker users and ACL: users file .*no colon found/);
    expect(await loginResult(port, 'sensor-cellar', 'Cellar-Pw-12')).toBe(0);
    expect(log()).not.toContain('Cellar-Pw-12');
  });

  it('connections over the client limit are dropped and counted', async () => {
    await start({ maxClients: 3 }); // the listener is one of them
    await device(port, 'sensor-hall', HALL_PW, 'c1');
    await device(port, 'sensor-attic', ATTIC_PW, 'c2');
    const extra = netConnect(port, '127.0.0.1');
    cleanups.push(() => extra.destroy());
    await new Promise<void>((resolve) => extra.once('close', () => resolve()));
    expect(app.embeddedBroker!.counters.refusedConnections).toBe(1);
    expect(log()).toMatch(/refused a connection from 127\.0\.0\.1: 3 clients already connected/);
  });

  it('no password and no hash appears in the log', async () => {
    await start();
    await loginResult(port, 'sensor-hall', 'Wrong-Guess-123');
    await device(port, 'sensor-attic', ATTIC_PW, 'attic-4');
    await waitFor(() => log().includes('refused login'), 5_000, 'refusal logged');
    const text = log();
    for (const secret of [...PASSWORDS, 'Wrong-Guess-123', atticHash.split('$').pop()!]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });
});

describe('embedded broker beyond loopback', () => {
  it('without credentials: exit 2 with one line, from run and check-config', async () => {
    const dir = tempDir('broker-anon-');
    const port = await freePort();
    for (const extra of [[], ['check-config']]) {
      const r = launch(listenerArgs(dir, ['--embedded-broker', '--embedded-broker-host', '0.0.0.0', '--port', String(port), ...extra]), { cwd: dir });
      cleanups.push(() => kill(r));
      const { code } = await r.exited;
      expect(code).toBe(2);
      const lines = r.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: --embedded-broker-host 0\.0\.0\.0 opens the broker beyond this computer.*--embedded-broker-users.*--embedded-broker-allow-anonymous/);
    }
  });

  it('--embedded-broker-allow-anonymous: one warning at start, anonymous devices publish readings but cannot read them', async () => {
    const dir = tempDir('broker-anon-ok-');
    const port = await freePort();
    const app = await startedApp(dir, port, { embeddedBroker: true, embeddedBrokerHost: '127.0.0.1', brokerAccess: { allowAnonymous: true } }, cleanups);
    const text = (): string => readFileSync(join(dir, 'test.log'), 'utf8');
    expect(text().match(/WARN \[broker\] embedded broker lets anonymous clients in/g)).toHaveLength(1);
    const anon = await device(port, undefined, undefined, 'anon-1');
    expect(await subscribeCodes(anon, ['#', 'ECCTempHum', 'lights/hall'], 0)).toEqual({ '#': 128, ECCTempHum: 128, 'lights/hall': 0 });
    await anon.publishAsync('ECCTempHum', payload('ANON01', 70.0), { qos: 1 });
    await waitFor(() => count(join(dir, 'ECCTempHum.sqlite3'), 'ECCTempHum') === 1, 15_000, 'the reading stored');
    expect(app.embeddedBroker!.counters.refusedSubscriptions).toBe(2);
  });
});
