// Watchdog restarts and alert mails through real components: aedes on 127.0.0.1, the real
// ListenerApp with its SQLite file, and a real SMTP server (TLS with a self-signed certificate,
// and plain). The watchdog's clock is a ManualClock, so a 10-minute period takes no real time.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { retryPlanFor } from '../src/alerts/watchdog-alerts.js';
import { ListenerApp } from '../src/app.js';
import type { RawOptions } from '../src/config.js';
import type { AppLogger } from '../src/logging/logger.js';
import { VERSION_LINE } from '../src/version.js';
import { startAedes, type TestBroker } from './helpers/brokers.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startSmtp, type SmtpMode, type TestSmtp } from './helpers/smtp.js';
import { count, payload, publisher, sleep, tempDir, testConfig, testLogger, waitFor } from './helpers/util.js';

const PERIOD_MIN = 10;
const PERIOD_MS = PERIOD_MIN * 60_000;
const FROM = 'alerts@example.org';
const APP_PASSWORD = 'abcdefghijklmnop';
const TO = ['ops@example.org', 'boss@example.org'];
const EHLO = 'listener-box.example';
const HOST = hostname();
/** The waits between tries for this period: 60 s, then 120 s. */
const RETRY_WAIT_MS = retryPlanFor(PERIOD_MS).firstDelayMs;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Rig {
  dir: string;
  app: ListenerApp;
  clock: ManualClock;
  broker: TestBroker;
  smtp: TestSmtp;
  logger: AppLogger;
  logFile: string;
  lastNoticeFile: string;
  /** Stops the app and flushes its log (idempotent). */
  stop(): Promise<void>;
}

async function rig(
  options: { mode?: SmtpMode; dir?: string; broker?: TestBroker; smtp?: TestSmtp; smtpDown?: boolean; raw?: RawOptions } = {},
): Promise<Rig> {
  const dir = options.dir ?? tempDir('wd-');
  const broker = options.broker ?? (await startAedes());
  if (!options.broker) cleanups.push(() => broker.stop());
  const mode = options.mode ?? 'plain';
  const smtp = options.smtp ?? (await startSmtp({ mode, user: FROM, pass: APP_PASSWORD }));
  if (!options.smtp) cleanups.push(() => smtp.stop());
  if (options.smtpDown) await smtp.stop();
  const gmail = join(dir, 'gmail.txt');
  // The original's v02.10 line, with the usual stray spaces and a trailing newline.
  writeFileSync(gmail, ` ${FROM} , ${APP_PASSWORD} , ${EHLO} , ${TO.join(';')}\n`, { mode: 0o600 });
  const lastNoticeFile = join(dir, 'ECCMQTTIoT_Last_Notice.dat');
  const clock = new ManualClock();
  const logger = testLogger(dir);
  const app = new ListenerApp(
    testConfig(dir, broker.port, {
      gmailCredentialsFile: gmail,
      lastNoticeFile,
      timerCheckMinutes: PERIOD_MIN,
      silenceMinutes: 1440,
      smtpHost: '127.0.0.1',
      smtpPort: smtp.port,
      smtpSecure: smtp.mode === 'tls',
      // Self-signed test certificate (TLS and STARTTLS).
      smtpInsecure: smtp.mode !== 'plain',
      ...options.raw,
    }),
    { logger, timers: clock, onFatal: () => undefined },
  );
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await app.stop();
      await logger.close();
    })());
  cleanups.push(stop);
  await app.start();
  await waitFor(() => app.mqtt!.connected, 10_000, 'listener connected');
  await sleep(50); // SUBACK
  return { dir, app, clock, broker, smtp, logger, logFile: join(dir, 'test.log'), lastNoticeFile, stop };
}

/** Lets one silent watchdog period pass and waits until the restarted client is connected again. */
async function silentPeriod(r: Rig, settleMs = 50): Promise<void> {
  const restarts = r.app.watchdog!.stats.restarts;
  const connects = r.app.mqtt!.stats.connects;
  r.clock.advance(PERIOD_MS);
  await waitFor(
    () => r.app.watchdog!.stats.restarts === restarts + 1 && r.app.mqtt!.stats.connects > connects && r.app.mqtt!.connected,
    10_000,
    `restart #${restarts + 1}`,
  );
  await sleep(settleMs); // SUBACK
}

async function publish(r: Rig, ...payloads: Array<string | Buffer>): Promise<void> {
  const pub = await publisher(r.broker.port);
  try {
    for (const p of payloads) await pub.publishAsync('ECCTempHum', p as string, { qos: 1 });
  } finally {
    await pub.endAsync();
  }
}

function logText(r: Rig): string {
  return existsSync(r.logFile) ? readFileSync(r.logFile, 'utf8') : '';
}

function lastNotice(r: Rig): { lastAlertUTC: string } {
  return JSON.parse(readFileSync(r.lastNoticeFile, 'utf8')) as { lastAlertUTC: string };
}

describe.each<SmtpMode>(['tls', 'plain'])('alert mails over %s', (mode) => {
  it('no messages for a period: one restart, one mail with the right subject, body and Date; recovery mail when messages resume', async () => {
    const r = await rig({ mode });
    await publish(r, payload('ECCTH01', 70));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'first reading stored');
    const brokerUrl = r.app.mqtt!.brokerUrl;

    await silentPeriod(r);
    const restartedAt = r.clock.now();
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'alert mail');
    expect(r.app.watchdog!.stats.restarts).toBe(1);
    expect(r.app.mqtt!.stats.connects).toBe(2);

    const mail = r.smtp.mails[0]!;
    expect(mail.subject).toBe(`[mqtt-iot-listener] ${HOST}: no messages for ${PERIOD_MIN} min — listener restarted`);
    expect(mail.envelopeFrom).toBe(FROM);
    expect(mail.envelopeTo).toEqual(TO);
    expect(mail.headers.get('to')).toBe(TO.join(', '));
    expect(mail.authUser).toBe(FROM);
    expect(mail.ehlo).toBe(EHLO);
    expect(mail.secure).toBe(mode === 'tls');
    expect(mail.text).toContain(`No MQTT message has been received for ${PERIOD_MIN} min (watchdog period: ${PERIOD_MIN} min).`);
    expect(mail.text).toContain('restart #1 since start');
    expect(mail.text).toMatch(/Last message: +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}/);
    expect(mail.text).toMatch(/Last sensor seen: +ECCTH01/);
    expect(mail.text).toMatch(/Since start: +1 message\(s\): 1 reading\(s\) stored, 0 rejected/);
    expect(mail.text).toMatch(new RegExp(`Broker: +${brokerUrl.replace(/[.]/g, '\\.')}`));
    expect(mail.text).toContain(VERSION_LINE);

    // Date: RFC 5322 in this machine's zone (the offset of that very date), not UTC-only.
    const date = mail.headers.get('date')!;
    expect(date).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
    const offsetMin = -new Date(restartedAt).getTimezoneOffset();
    const sign = offsetMin >= 0 ? '+' : '-';
    const abs = Math.abs(offsetMin);
    expect(date.slice(-5)).toBe(`${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`);
    expect(Math.abs(Date.parse(date) - restartedAt)).toBeLessThan(5_000);

    // The mute time, written only after the send, as ISO-8601 UTC.
    await waitFor(() => existsSync(r.lastNoticeFile), 5_000, 'last-notice file');
    expect(Date.parse(lastNotice(r).lastAlertUTC)).toBe(restartedAt);
    expect(lastNotice(r).lastAlertUTC).toMatch(/Z$/);

    // The restarted client resubscribed: readings are stored again, and the team hears it healed.
    await publish(r, payload('ECCTH01', 71));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 2, 10_000, 'reading after the restart');
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'recovery mail');
    expect(r.smtp.mails[1]!.subject).toBe(`[mqtt-iot-listener] ${HOST}: messages arriving again after ${PERIOD_MIN} min — recovered`);
    expect(r.smtp.mails[1]!.text).toContain('The first message after the silence was a reading.');

    await r.stop();
    const log = logText(r);
    expect(log).toMatch(/WARN \[watchdog\] no MQTT message for 10 min .*restarting the MQTT connection \(restart #1\)/);
    expect(log).toMatch(/INFO \[watchdog\] MQTT connection restarted \(restart #1\)/);
    expect(log).toMatch(/INFO \[alerts\] alert mail "\[mqtt-iot-listener\] .*listener restarted" sent; server answered: 250/);
    expect(log).toMatch(/INFO \[watchdog\] messages arriving again after 10 min and 1 restart\(s\)/);
    expect(log).not.toContain(APP_PASSWORD);
  });
});

describe('watchdog and alert muting', () => {
  it('a second silent period inside the mute window restarts again but sends no second mail', async () => {
    const r = await rig();
    await silentPeriod(r);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'first alert');
    expect(r.smtp.mails[0]!.subject).toBe(`[mqtt-iot-listener] ${HOST}: no messages for ${PERIOD_MIN} min — listener restarted`);
    expect(r.smtp.mails[0]!.text).toMatch(/Last message: +none since start/);

    await silentPeriod(r);
    expect(r.app.watchdog!.stats.restarts).toBe(2);
    expect(r.app.mqtt!.stats.connects).toBe(3);
    expect(r.app.watchdogAlerts!.stats.muted).toBe(1);
    await sleep(300);
    expect(r.smtp.mails).toHaveLength(1);

    // Same outage: its end is still reported, since its first alert went out.
    await publish(r, payload('ECCTH02', 70));
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'recovery mail');
    expect(r.smtp.mails[1]!.subject).toBe(`[mqtt-iot-listener] ${HOST}: messages arriving again after ${2 * PERIOD_MIN} min — recovered`);
    expect(r.smtp.mails[1]!.text).toContain('2 restart(s)');

    await r.stop();
    expect(logText(r)).toMatch(/WARN \[watchdog\] no MQTT message for 20 min .*\(restart #2\)/);
    expect(logText(r)).toMatch(/INFO \[alerts\] alert muted until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \(last "no messages" alert sent/);
  });

  it('the mute time from a previous run is respected after the listener restarts', async () => {
    const first = await rig();
    await silentPeriod(first);
    await waitFor(() => first.smtp.mails.length === 1, 15_000, 'first alert');
    await waitFor(() => existsSync(first.lastNoticeFile), 5_000, 'last-notice file');
    await first.stop();

    const second = await rig({ dir: first.dir, broker: first.broker, smtp: first.smtp });
    await silentPeriod(second);
    expect(second.app.watchdogAlerts!.stats.muted).toBe(1);
    // Messages resume: the muted outage gets no recovery mail either.
    await publish(second, payload('ECCTH03', 70));
    await waitFor(() => count(second.app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'reading stored');
    await sleep(300);
    expect(first.smtp.mails).toHaveLength(1);
    await second.stop();
    const log = logText(second);
    expect(log).toMatch(/"no messages" alerts muted until .* \(last one sent /);
    expect(log).toMatch(/alert muted until/);
    expect(log).toMatch(/no recovery mail: no "no messages" mail went out for this outage/);
  });

  it("an unreadable last-notice file (the original's pickle) counts as no alert yet: alert sent, file rewritten", async () => {
    const dir = tempDir('wd-');
    // What Python's pickle.dump(datetime.now(), f) leaves behind.
    const pickle = Buffer.from('80049525000000000000008c086461746574696d65948c086461746574696d659493944301', 'hex');
    writeFileSync(join(dir, 'ECCMQTTIoT_Last_Notice.dat'), pickle);
    const r = await rig({ dir });
    await silentPeriod(r);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'alert despite the unreadable file');
    await waitFor(() => readFileSync(r.lastNoticeFile)[0] === '{'.charCodeAt(0), 5_000, 'file rewritten');
    expect(Date.parse(lastNotice(r).lastAlertUTC)).toBe(r.clock.now());
    await r.stop();
    const warnings = logText(r).split('\n').filter((l) => l.includes('is not in our format'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WARN \[alerts\] last-notice file .* is not in our format \(perhaps the original listener's Python pickle\)/);
  });

  it('SMTP down: readings keep being stored, the failure is logged, and the mail goes out once the server is back within the retries', async () => {
    const r = await rig({ smtpDown: true });
    await publish(r, payload('ECCTH01', 70));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'reading stored');
    await silentPeriod(r);
    await waitFor(() => /failed \(try 1 of 3\)/.test(logText(r)), 10_000, 'first try logged as failed');
    expect(existsSync(r.lastNoticeFile)).toBe(false); // the mute time is written only after a send

    await publish(r, payload('ECCTH01', 71), payload('ECCTH02', 72));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 3, 10_000, 'readings stored while mail is down');

    await r.smtp.start();
    r.clock.advance(RETRY_WAIT_MS); // the first retry's wait
    await waitFor(() => r.smtp.mails.length >= 1, 15_000, 'alert on the second try');
    expect(r.smtp.mails[0]!.subject).toContain('no messages for 10 min — listener restarted');
    await waitFor(() => existsSync(r.lastNoticeFile), 5_000, 'mute time written after the send');
    // The recovery waited for the alert it answers, and follows it.
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'recovery mail');
    expect(r.smtp.mails[1]!.subject).toContain('— recovered');
    await r.stop();
    expect(logText(r)).toMatch(/WARN \[alerts\] alert mail ".*" failed \(try 1 of 3\) via 127\.0\.0\.1:\d+ .*ECONNREFUSED.*; retrying in 60\.0 s/);
  });

  it('SMTP down for good: three tries, then an error log; the listener keeps running and nothing is muted', async () => {
    const r = await rig({ smtpDown: true });
    await silentPeriod(r);
    await waitFor(() => /failed \(try 1 of 3\)/.test(logText(r)), 10_000, 'try 1');
    r.clock.advance(RETRY_WAIT_MS);
    await waitFor(() => /failed \(try 2 of 3\)/.test(logText(r)), 10_000, 'try 2');
    r.clock.advance(2 * RETRY_WAIT_MS);
    await waitFor(() => /NOT sent after 3 tries/.test(logText(r)), 10_000, 'given up');
    expect(r.app.watchdogAlerts!.stats.failed).toBe(1);
    expect(existsSync(r.lastNoticeFile)).toBe(false);
    await publish(r, payload('ECCTH01', 70));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'still storing');
    // Not muted: the next silent period tries again.
    await silentPeriod(r);
    await waitFor(() => /failed \(try 1 of 3\)[\s\S]*NOT sent[\s\S]*failed \(try 1 of 3\)/.test(logText(r)), 10_000, 'next alert tried');
    await r.stop();
    expect(logText(r)).toMatch(/ERROR \[alerts\] alert mail ".*" NOT sent after 3 tries .*; giving up \(the listener keeps running\)/);
  });

  it('undecodable messages reset the period but show in the alert text', async () => {
    const r = await rig();
    await publish(r, payload('ECCTH01', 70));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'reading');
    r.clock.advance(PERIOD_MS * 0.6);
    await publish(r, 'garbage', 'field1=x&field7=ECCTH01');
    await waitFor(() => count(r.app.config.dbFile, 'rejected_messages') === 2, 10_000, 'rejects stored');
    r.clock.advance(PERIOD_MS * 0.6); // 1.2 periods since the reading, 0.6 since the rejects
    await sleep(200);
    expect(r.app.watchdog!.stats.restarts).toBe(0);
    r.clock.advance(PERIOD_MS * 0.4);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'alert');
    expect(r.app.watchdog!.stats.restarts).toBe(1);
    const text = r.smtp.mails[0]!.text;
    expect(text).toContain('the last 2 message(s) before the silence could not be decoded');
    expect(text).toMatch(/Since start: +3 message\(s\): 1 reading\(s\) stored, 2 rejected/);
    // Only garbage after the restart: recovered, but says so.
    await publish(r, 'still garbage');
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'recovery mail');
    expect(r.smtp.mails[1]!.text).toContain('the first message after the silence could NOT be decoded');
  });

  it('stopping while a mail hangs on a silent server aborts the send and stops promptly', async () => {
    // A "mail server" that accepts the connection and never greets: nodemailer would wait 30 s.
    const sockets = new Set<Socket>();
    const mute = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          mute.close(() => resolve());
        }),
    );
    const port = (mute.address() as { port: number }).port;
    const r = await rig({ raw: { smtpPort: port, smtpSecure: false } });
    await silentPeriod(r);
    await waitFor(() => sockets.size === 1, 5_000, 'mail connection open');
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(3_000);
    await waitFor(() => sockets.size === 0, 5_000, 'mail connection closed by the listener');
    expect(logText(r)).toMatch(/WARN \[alerts\] alert mail ".*" abandoned: the listener is stopping/);
    expect(existsSync(r.lastNoticeFile)).toBe(false);
  });

  it('without a mail credentials file, alerts are logged only (said once at start-up)', async () => {
    const dir = tempDir('wd-');
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const clock = new ManualClock();
    const logger = testLogger(dir);
    const app = new ListenerApp(testConfig(dir, broker.port, { timerCheckMinutes: PERIOD_MIN }), { logger, timers: clock });
    cleanups.push(() => app.stop());
    await app.start();
    await waitFor(() => app.mqtt!.connected, 10_000, 'connected');
    clock.advance(PERIOD_MS);
    await waitFor(() => app.watchdog!.stats.restarts === 1 && app.mqtt!.connected, 10_000, 'restart');
    expect(app.watchdogAlerts!.stats.loggedOnly).toBe(1);
    await app.stop();
    await logger.close();
    const log = readFileSync(join(dir, 'test.log'), 'utf8');
    expect(log.match(/no mail credentials file .*no-gmail\.txt: alerts are written to this log only/g)).toHaveLength(1);
    expect(log).toMatch(/WARN \[alerts\] ALERT \(not mailed, no mail credentials\): \[mqtt-iot-listener\] .*: no messages for 10 min — listener restarted/);
    expect(existsSync(join(dir, 'last-notice.json'))).toBe(false);
  });
});

describe('restarts do not leak', () => {
  /** What could pile up across restarts: timers, sockets, servers and process-wide listeners. */
  function snapshot(app: ListenerApp): Record<string, number> {
    const out: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo()) {
      if (/Timeout|TCP|TLS|Socket|Pipe|Immediate/.test(type)) out[type] = (out[type] ?? 0) + 1;
    }
    out['processListeners'] = process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);
    const client = Reflect.get(app.mqtt!, 'client') as EventEmitter;
    for (const e of ['close', 'connect', 'error', 'message', 'end', 'offline', 'packetreceive']) out[`client:${e}`] = client.listenerCount(e);
    const stream = Reflect.get(client, 'stream') as EventEmitter | undefined;
    for (const e of ['close', 'error', 'data', 'drain', 'end']) out[`stream:${e}`] = stream?.listenerCount(e) ?? 0;
    return out;
  }

  function noMoreThan(now: Record<string, number>, base: Record<string, number>): string[] {
    return Object.keys({ ...now, ...base })
      .filter((k) => (now[k] ?? 0) > (base[k] ?? 0))
      .map((k) => `${k}: ${base[k] ?? 0} -> ${now[k]}`);
  }

  it('100 forced restarts leave as many timers, sockets and listeners as 1 restart', async () => {
    const r = await rig();
    await silentPeriod(r);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'first alert');
    await sleep(300); // let the SMTP connection and the old MQTT socket close
    const base = snapshot(r.app);
    const pendingBase = r.clock.pending;
    for (let i = 2; i <= 100; i++) await silentPeriod(r, 0);
    expect(r.app.watchdog!.stats.restarts).toBe(100);
    expect(r.app.mqtt!.stats.connects).toBe(101);
    expect(r.app.watchdogAlerts!.stats.muted).toBe(99);
    expect(r.smtp.mails).toHaveLength(1);
    expect(r.clock.pending).toBe(pendingBase);
    let growth: string[] = [];
    await waitFor(
      () => {
        growth = noMoreThan(snapshot(r.app), base);
        return growth.length === 0;
      },
      1_500, // sockets close within milliseconds on loopback; a leaked 2 s timer would still show
      'resources back to the 1-restart level',
    ).catch(() => undefined);
    expect(growth).toEqual([]);
    // Still a working listener after all that.
    await publish(r, payload('ECCTH01', 70));
    await waitFor(() => count(r.app.config.dbFile, 'ECCTempHum') === 1, 10_000, 'reading after 100 restarts');
  });
});

describe('storage alert mail', () => {
  it('a database that cannot take writes sends one mail for the streak; the waiting readings are stored after', async () => {
    const r = await rig();
    const dbFile = r.app.config.dbFile;
    await publish(r, payload('ECCTH01', 70));
    await waitFor(() => count(dbFile, 'ECCTempHum') === 1, 10_000, 'first reading');
    // The disk is "full": the database may not grow by a single page.
    const db = r.app.readingStore!.database;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    await publish(r, ...Array.from({ length: 300 }, (_, i) => payload(`FULL${i}`, 70)));
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'storage alert mail');
    const mail = r.smtp.mails[0]!;
    expect(mail.subject).toBe(`[mqtt-iot-listener] ${HOST}: cannot write the database — readings waiting`);
    expect(mail.text).toMatch(/cannot commit readings to its database: .*full/i);
    expect(mail.text).toContain('NOT acknowledged');
    // More failed retries in the same streak: nothing more stored (the last pages' free room is
    // used up by the first commits), and no second mail.
    const storedWhileFull = count(dbFile, 'ECCTempHum');
    expect(storedWhileFull).toBeLessThan(301);
    for (let i = 0; i < 5; i++) r.clock.advance(10_000);
    await waitFor(() => r.app.readingWriter!.totals.failedCommits >= 3, 10_000, 'failed retries');
    expect(count(dbFile, 'ECCTempHum')).toBe(storedWhileFull);
    // Room again: the next retry stores everything, once; still one mail.
    db.pragma('max_page_count = 1073741823');
    r.clock.advance(10_000);
    await waitFor(() => count(dbFile, 'ECCTempHum') === 301, 10_000, 'readings after the disk has room');
    await sleep(200);
    expect(r.smtp.mails).toHaveLength(1);
    expect(logText(r)).toMatch(/database writable again/);
  });
});
