// support-bundle as a user makes it after a real listener ran: the .zip unpacked with adm-zip
// holds what a maintainer needs, and none of the MQTT or mail passwords, in any form.
import { appendFileSync, chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text as streamText } from 'node:stream/consumers';
import AdmZip from 'adm-zip';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import { ReadingStore, type IncomingMessage } from '../src/store/reading-store.js';
import { SecretScrubber, secretForms } from '../src/tools/secret-scrubber.js';
import { configSecrets } from '../src/tools/support-bundle.js';
import { freePort } from './helpers/brokers.js';
import { BIN, publish, SECRET, spawnListener } from './helpers/processes.js';
import { count, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const MAIL_PASSWORD = 'mail-App-Pw-9f8e7d';

function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
}

describe('support-bundle', () => {
  it('holds logs, status, check-config, versions, integrity check and the last 1000 rejected messages, and no password', async () => {
    const dir = tempDir();
    const gmail = join(dir, 'gmail.txt');
    writeFileSync(gmail, `alerts@example.com,${MAIL_PASSWORD},None,ops@example.com\n`);
    chmodSync(gmail, 0o600);
    const port = await freePort();
    // Debug lines and a tiny -z: the log rotates into gzipped archives while readings come in.
    const listener = spawnListener(dir, port, ['--embedded-broker', '--log-level', 'debug', '-z', '20000']);
    cleanups.push(async () => {
      listener.kill('SIGTERM');
      await listener.exited;
    });
    const db = join(dir, 'ECCTempHum.sqlite3');
    const log = join(dir, 'ECCMQTTIoT.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('holding'), 30_000, 'listener started');
    await publish(port, { count: 400, sensors: 4, prefix: 'BUNDLE', qos: 1, username: 'reliability', password: SECRET }).done;
    await waitFor(() => count(db, 'ECCTempHum') === 400, 30_000, '400 readings');
    // While it runs: a stop does not wait for a gzip in progress.
    await waitFor(() => readdirSync(dir).includes('ECCMQTTIoT.log.1.gz'), 30_000, 'a gzipped log archive');
    listener.kill('SIGTERM');
    expect(await listener.exited).toBe(0);

    // 1100 rejected messages, through the real store.
    const store = new ReadingStore(db);
    store.open();
    const bad: IncomingMessage[] = Array.from({ length: 1100 }, (_, i) => {
      const p = Buffer.from(`garbage number ${i}`);
      return { topic: 'ECCTempHum', payload: p, receivedMicros: Date.now() * 1000 + i, dup: false, result: decodePayload('ECCTempHum', p) };
    });
    expect(store.writeBatch(bad).rejected).toBe(1100);
    store.close();
    // A secret that leaked into the log (say, from a library's debug output) is masked too.
    appendFileSync(log, `2026-12-02T10:00:00.000Z DEBUG [mqtt] connect options {"password":"${SECRET}"} auth ${Buffer.from(SECRET).toString('base64')}\n`);

    const zip = join(dir, 'bundle.zip');
    const r = spawnSync(
      process.execPath,
      [BIN, '-d', db, '-l', log, '-c', join(dir, 'creds.txt'), '-m', gmail, '-n', join(dir, 'notice.json'), 'support-bundle', '--out', zip],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' } },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`wrote ${zip}`);

    const entries = new Map(new AdmZip(zip).getEntries().map((e) => [e.entryName, e.getData().toString('utf8')]));
    for (const [name, body] of entries) {
      for (const f of [...forms(SECRET), ...forms(MAIL_PASSWORD)]) expect(body.includes(f), `${f} in ${name}`).toBe(false);
    }
    const names = [...entries.keys()];
    expect(names).toEqual(expect.arrayContaining(['README.txt', 'versions.json', 'check-config.json', 'status.json', 'integrity-check.txt', 'rejected-messages.json', 'logs/ECCMQTTIoT.log', 'logs/ECCMQTTIoT.log.1']));
    expect(names.some((n) => /creds|gmail/.test(n))).toBe(false);

    const config = JSON.parse(entries.get('check-config.json')!);
    expect(config.mqtt).toMatchObject({ username: 'reliability', password: '********' });
    expect(config.mail).toMatchObject({ from: 'alerts@example.com', password: '********' });
    expect(JSON.parse(entries.get('status.json')!).totals).toMatchObject({ readings: 400, sensors: 4, rejectedMessages: 1100 });
    expect(JSON.parse(entries.get('versions.json')!)).toMatchObject({ node: process.version, sqlite: expect.stringMatching(/^3\./), listener: expect.stringMatching(/^mqtt-iot-listener /) });
    expect(entries.get('integrity-check.txt')).toMatch(/\nok\n$/);
    const rejected = JSON.parse(entries.get('rejected-messages.json')!) as Array<{ id: number; payload: string }>;
    expect(rejected).toHaveLength(1000);
    expect(rejected[0]!.payload).toBe('garbage number 1099'); // newest first
    const liveLog = entries.get('logs/ECCMQTTIoT.log')!;
    expect(liveLog).toContain('connect options {"password":"********"} auth ********');
    // The rotated archives are in it, unpacked: together they hold the per-message debug lines.
    const allLogs = names.filter((n) => n.startsWith('logs/')).map((n) => entries.get(n)!).join('');
    expect(allLogs).toMatch(/sensor=BUNDLE\d+ stored/);
  });

  it('masks the password of a PostgreSQL -d URL wherever the URL shows up', () => {
    const dir = tempDir();
    const pgPassword = 'pg-Secret-4711';
    const zip = join(dir, 'b.zip');
    const r = spawnSync(process.execPath, [BIN, '-d', `postgres://listener:${pgPassword}@127.0.0.1:1/sensors`, '-l', join(dir, 'none.log'), 'support-bundle', '-o', zip], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' },
    });
    expect(r.status).toBe(0);
    const entries = new Map(new AdmZip(zip).getEntries().map((e) => [e.entryName, e.getData().toString('utf8')]));
    expect(entries.get('status.json')).toContain('postgres://listener:********@127.0.0.1:1/sensors');
    for (const [name, body] of entries) expect(body.includes(pgPassword), name).toBe(false);
  });

  it('is made even when the configuration is broken, saying why', () => {
    const dir = tempDir();
    const creds = join(dir, 'creds.txt');
    writeFileSync(creds, `no-comma-here-${SECRET}\n`);
    const zip = join(dir, 'b.zip');
    const r = spawnSync(process.execPath, [BIN, '-d', join(dir, 'none.sqlite3'), '-l', join(dir, 'none.log'), '-c', creds, 'support-bundle', '-o', zip], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' },
    });
    expect(r.status).toBe(0);
    const entries = new Map(new AdmZip(zip).getEntries().map((e) => [e.entryName, e.getData().toString('utf8')]));
    expect(JSON.parse(entries.get('check-config.json')!).error).toMatch(/no comma found/);
    expect(entries.get('status.json')).toMatch(/could not get status: database .* does not exist/);
    for (const body of entries.values()) expect(body).not.toContain(SECRET);
  });
});

describe('secret scrubbing', () => {
  it('masks a secret split across chunks, in every form, and secrets from any part of the configuration', async () => {
    const secret = 'p@ss w0rd/+=';
    const text = `a ${secret} b ${Buffer.from(secret).toString('base64')} c ${encodeURIComponent(secret)} d`;
    // One byte per chunk: every secret is split across chunk boundaries.
    const chunks = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    const out = await streamText(Readable.from(chunks).pipe(new SecretScrubber(secretForms([secret]))));
    expect(out).toBe('a ******** b ******** c ******** d');
    expect(configSecrets({ mqtt: { password: 'one' }, http: { users: [{ name: 'x', password: 'two' }], token: 'three' }, credentialsFile: 'c.txt' })).toEqual(['one', 'two', 'three']);
    expect(configSecrets({ dbFile: 'postgres://listener:p%40ss-w0rd@db.example.org:5432/sensors' })).toEqual(['p%40ss-w0rd', 'p@ss-w0rd']);
  });
});
