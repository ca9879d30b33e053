// Per-sensor alerts through the real components: readings published over MQTT to aedes on
// 127.0.0.1, stored by the real ListenerApp in its SQLite file, digests received by a real SMTP
// server (smtp-server), the state file on disk. The alert cycle runs on a ManualClock, so a
// 10-minute `for` or a 24-hour mute takes no real time.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { printAlerts, readAlertsReport } from '../src/alerts/alerts-command.js';
import type { AlertsReport } from '../src/alerts/alerts-report.js';
import type { SensorAlertFlags } from '../src/alerts/sensor-alert-options.js';
import { ListenerApp } from '../src/app.js';
import type { RawOptions } from '../src/config.js';
import type { HttpConfig } from '../src/http/http-options.js';
import type { AppLogger } from '../src/logging/logger.js';
import { PostgresServer } from './helpers/postgres.js';
import { startAedes, type TestBroker } from './helpers/brokers.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { publisher, sleep, tempDir, testConfig, testLogger, waitFor } from './helpers/util.js';

const FROM = 'alerts@example.org';
const PASSWORD = 'abcdefghijklmnop';
const MIN = 60_000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A reading in the original firmware's format with the values a test cares about. */
function reading(sensor: string, v: { temperatureF?: number; battPercent?: number } = {}): string {
  return `field1=47.10&field2=${v.temperatureF ?? 70}&field3=39.17&field4=3.41&field5=${v.battPercent ?? 93.5}&field6=-67&field7=${sensor}`;
}

interface Rig {
  dir: string;
  app: ListenerApp;
  clock: ManualClock;
  broker: TestBroker;
  smtp: TestSmtp;
  logFile: string;
  lastNoticeFile: string;
  stop(): Promise<void>;
}

async function rig(flags: SensorAlertFlags, options: { dir?: string; broker?: TestBroker; smtp?: TestSmtp; smtpDown?: boolean; clock?: ManualClock; raw?: RawOptions; http?: HttpConfig } = {}): Promise<Rig> {
  const dir = options.dir ?? tempDir('sensor-alerts-');
  const broker = options.broker ?? (await startAedes());
  if (!options.broker) cleanups.push(() => broker.stop());
  const smtp = options.smtp ?? (await startSmtp({ mode: 'plain', user: FROM, pass: PASSWORD }));
  if (!options.smtp) cleanups.push(() => smtp.stop());
  if (options.smtpDown) await smtp.stop();
  const gmail = join(dir, 'gmail.txt');
  writeFileSync(gmail, `${FROM},${PASSWORD},None,ops@example.org\n`, { mode: 0o600 });
  const lastNoticeFile = join(dir, 'ECCMQTTIoT_Last_Notice.dat');
  const clock = options.clock ?? new ManualClock();
  const logger: AppLogger = testLogger(dir);
  const config = testConfig(dir, broker.port, {
    gmailCredentialsFile: gmail,
    lastNoticeFile,
    // The watchdog stays out of these tests: no "no messages" mail in the counts.
    timerCheckMinutes: 100_000,
    silenceMinutes: 1440,
    smtpHost: '127.0.0.1',
    smtpPort: smtp.port,
    smtpSecure: false,
    sensorAlerts: flags,
    ...options.raw,
  });
  if (options.http) config.http = options.http;
  const app = new ListenerApp(config, { logger, timers: clock, onFatal: () => undefined });
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
  return { dir, app, clock, broker, smtp, logFile: join(dir, 'test.log'), lastNoticeFile, stop };
}

/** A broker and a mail server that outlive one listener (for restarts). */
async function servers(): Promise<{ broker: TestBroker; smtp: TestSmtp }> {
  const broker = await startAedes();
  cleanups.push(() => broker.stop());
  const smtp = await startSmtp({ mode: 'plain', user: FROM, pass: PASSWORD });
  cleanups.push(() => smtp.stop());
  return { broker, smtp };
}

/** Publishes readings (QoS 1) and waits until all of them are committed. */
async function publish(r: Rig, ...payloads: string[]): Promise<void> {
  const stored = (): number => r.app.readingWriter!.totals.stored;
  const before = stored();
  const pub = await publisher(r.broker.port);
  try {
    await Promise.all(payloads.map((p) => pub.publishAsync('ECCTempHum', p, { qos: 1 })));
  } finally {
    await pub.endAsync();
  }
  await waitFor(() => stored() >= before + payloads.length, 20_000, `${payloads.length} reading(s) stored`);
}

/** Moves the clock one alert cycle at a time, letting each cycle's mail attempt run. */
async function cycles(r: Rig, n: number, cycleMs = MIN): Promise<void> {
  for (let i = 0; i < n; i++) {
    r.clock.advance(cycleMs);
    await sleep(20);
  }
}

function problems(r: Rig): Array<{ sensor: string; kind: string; announced: boolean }> {
  return r.app.sensorAlertChecks!.snapshot()!.problems;
}

function logText(r: Rig): string {
  return existsSync(r.logFile) ? readFileSync(r.logFile, 'utf8') : '';
}

function alertsJson(r: Rig): { code: number; report: AlertsReport } {
  const out: string[] = [];
  const code = printAlerts(r.lastNoticeFile, true, { out: (l) => out.push(l) });
  return { code, report: JSON.parse(out.join('\n')) as AlertsReport };
}

describe('sensor silence', () => {
  it('alerts one cycle after the threshold, never for a sensor that never reported, and mails the recovery', async () => {
    const dir = tempDir('sensor-alerts-');
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify([{ sensor: 'Ghost', when: 'temperatureF < 40' }]));
    const r = await rig({ sensorSilenceMinutes: 5, rulesFile: rules }, { dir });
    await publish(r, reading('Basement'), reading('Attic'));

    await cycles(r, 4);
    await publish(r, reading('Attic')); // Attic keeps reporting, Basement does not
    expect(problems(r)).toEqual([]);
    await cycles(r, 1); // 5 min: the threshold is reached at this cycle
    expect(problems(r).map((p) => `${p.sensor} ${p.kind}`)).toEqual(['Basement silent']);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'silence digest');
    const mail = r.smtp.mails[0]!;
    expect(mail.subject).toMatch(/^\[mqtt-iot-listener\] .+: 1 sensor problem — Basement silent$/);
    expect(mail.text).toMatch(/NEW PROBLEMS \(1\):\r?\n {2}Basement +silent: no reading since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \(5m\)/);
    expect(mail.text).toContain('at most once every 1440 min (-s)');

    // Ghost is named by a rule but has never reported: a warning at start, never "silent".
    await publish(r, reading('Attic'));
    await cycles(r, 3);
    expect(problems(r).some((p) => p.sensor === 'Ghost')).toBe(false);
    expect(logText(r)).toMatch(/WARN \[alerts\] alert rule for sensor "Ghost" .*no reading from this sensor yet; accepted/);

    await publish(r, reading('Basement'), reading('Attic'));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'recovery digest');
    expect(r.smtp.mails[1]!.subject).toMatch(/: 1 recovery — Basement OK$/);
    expect(r.smtp.mails[1]!.text).toMatch(/RECOVERED \(1\):\r?\n {2}Basement +silent: reporting again, last reading /);
    expect(problems(r)).toEqual([]);
  });

  it('500 sensors going quiet at once are one mail, not 500, and stay one mail over many cycles', async () => {
    const r = await rig({ sensorSilenceMinutes: 2 });
    const names = Array.from({ length: 500 }, (_, i) => `Room${String(i).padStart(3, '0')}`);
    await publish(r, ...names.map((n) => reading(n)));
    await cycles(r, 2);
    await waitFor(() => r.smtp.mails.length === 1, 20_000, 'one digest');
    await cycles(r, 30); // half an hour of cycles with every sensor still silent
    await sleep(300);
    expect(r.smtp.mails).toHaveLength(1);
    const mail = r.smtp.mails[0]!;
    expect(mail.subject).toMatch(/: 500 sensor problems — Room000 silent, Room001 silent, Room002 silent, …$/);
    expect(mail.text).toContain('NEW PROBLEMS (500):');
    expect(mail.text).toContain('… and 300 more (run: mqtt-iot-listener alerts)');
    expect(problems(r)).toHaveLength(500);

    // All back: one recovery digest.
    await publish(r, ...names.map((n) => reading(n)));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 2, 20_000, 'one recovery digest');
    expect(r.smtp.mails[1]!.subject).toMatch(/: 500 recoveries — /);
    await cycles(r, 5);
    await sleep(200);
    expect(r.smtp.mails).toHaveLength(2);
  });
});

describe('mutes', () => {
  it('a (sensor, kind) mailed before a restart stays muted after it; the alerts command shows the problem and the mute', async () => {
    const { broker, smtp } = await servers();
    const dir = tempDir('sensor-alerts-');
    const first = await rig({ sensorSilenceMinutes: 3 }, { dir, broker, smtp });
    await publish(first, reading('Boiler'));
    await cycles(first, 3);
    await waitFor(() => smtp.mails.length === 1, 15_000, 'first silence digest');
    await publish(first, reading('Boiler'));
    await cycles(first, 1);
    await waitFor(() => smtp.mails.length === 2, 15_000, 'recovery digest');
    // The server has the mail a moment before the listener has its answer and empties the outbox.
    await waitFor(() => first.app.sensorAlertChecks!.snapshot()!.outbox.length === 0, 10_000, 'outbox emptied');
    await first.stop();

    const second = await rig({ sensorSilenceMinutes: 3 }, { dir, broker, smtp, http: { host: '127.0.0.1', port: 0, staleMs: 3_600_000 } });
    await cycles(second, 4); // Boiler silent again, 3 min after this start
    expect(problems(second)).toEqual([expect.objectContaining({ sensor: 'Boiler', kind: 'silent', announced: false })]);
    await sleep(300);
    expect(smtp.mails).toHaveLength(2);
    expect(logText(second)).toMatch(/INFO \[alerts\] sensor Boiler: silent: no reading since .* — muted until .*\(mailed .*, -s 1440 min\)/);

    // /api/alerts (the running listener's live state) and `alerts` (the file) say the same.
    const t = Date.now();
    const live = readAlertsReport(second.lastNoticeFile, second.app.sensorAlertChecks!.snapshot(), t);
    await waitFor(() => JSON.stringify(readAlertsReport(second.lastNoticeFile, undefined, t)) === JSON.stringify(live), 5_000, 'state file written');
    const { code, report } = alertsJson(second);
    // The status service's /api/alerts, over real HTTP, says the same.
    const res = await fetch(`${second.app.httpService!.url}/api/alerts`);
    expect(res.status).toBe(200);
    const api = (await res.json()) as AlertsReport;
    expect({ ...api, checkedAtUTC: '' }).toEqual({ ...report, checkedAtUTC: '' });
    expect(code).toBe(1);
    expect(report.problems).toEqual([expect.objectContaining({ sensor: 'Boiler', kind: 'silent', mailed: false })]);
    expect(report.mutes).toEqual([expect.objectContaining({ sensor: 'Boiler', kind: 'silent' })]);
    // Muted for -s (1440 min) from the delivery of the first digest, before the restart.
    const until = Date.parse(report.mutes[0]!.untilUTC) - Date.parse(report.mutes[0]!.mailedUTC);
    expect(until).toBe(1440 * MIN);

    // The muted problem's end sends no recovery line either (nobody heard of its start).
    await publish(second, reading('Boiler'));
    await cycles(second, 2);
    await sleep(300);
    expect(smtp.mails).toHaveLength(2);
    expect(problems(second)).toEqual([]);
  });

  it('a battery hovering around the limit is one problem mail and one recovery mail, not a storm', async () => {
    const r = await rig({ batteryLowPercent: 15 });
    for (let i = 0; i < 4; i++) {
      await publish(r, reading('Chapel', { battPercent: 14 }));
      await cycles(r, 1);
      await publish(r, reading('Chapel', { battPercent: 16 }));
      await cycles(r, 1);
    }
    await waitFor(() => r.smtp.mails.length >= 2, 15_000, 'problem and recovery');
    await sleep(300);
    expect(r.smtp.mails.map((m) => m.subject.replace(/^.*?: /, ''))).toEqual(['1 sensor problem — Chapel battery low', '1 recovery — Chapel OK']);
  });
});

describe('reminders', () => {
  it('a problem that outlasts its mute is mailed again once every -s, under STILL UNRESOLVED, until it ends', async () => {
    const r = await rig({ batteryLowPercent: 15 }, { raw: { silenceMinutes: 10 } });
    await publish(r, reading('Vestry', { battPercent: 9 }));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'battery digest');
    await cycles(r, 9);
    await sleep(200);
    expect(r.smtp.mails).toHaveLength(1); // muted for 10 min from the delivery
    await cycles(r, 2);
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'reminder digest');
    expect(r.smtp.mails[1]!.subject).toMatch(/: 1 still unresolved — Vestry battery low$/);
    expect(r.smtp.mails[1]!.text).toMatch(/STILL UNRESOLVED \(1\):\r?\n {2}Vestry +battery low: battery at 9 % \(below 15 %\)/);
    await cycles(r, 5);
    await sleep(200);
    expect(r.smtp.mails).toHaveLength(2);
    await publish(r, reading('Vestry', { battPercent: 100 }));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 3, 15_000, 'recovery digest');
    expect(r.smtp.mails[2]!.subject).toMatch(/: 1 recovery — Vestry OK$/);
  });
});

describe('battery low and rules', () => {
  it('a low battery in a real reading raises "battery low" with the value; the webhook gets the same digest as JSON', async () => {
    const { createServer } = await import('node:http');
    const bodies: Array<Record<string, unknown>> = [];
    const server = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(data) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;

    const r = await rig({ batteryLowPercent: 15, webhookUrl: `http://127.0.0.1:${port}/hooks/secret-token-123` });
    await publish(r, reading('Sanctuary', { battPercent: 8 }), reading('Office', { battPercent: 60 }));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 1 && bodies.length === 1, 15_000, 'battery digest by mail and webhook');
    expect(r.smtp.mails[0]!.subject).toMatch(/: 1 sensor problem — Sanctuary battery low$/);
    expect(r.smtp.mails[0]!.text).toMatch(/Sanctuary +battery low: battery at 8 % \(below 15 %\)/);
    expect(bodies[0]).toMatchObject({
      source: 'mqtt-iot-listener',
      title: r.smtp.mails[0]!.subject,
      problems: [{ sensor: 'Sanctuary', kind: 'battery low', text: 'battery at 8 % (below 15 %)' }],
      reminders: [],
      recoveries: [],
    });

    await publish(r, reading('Sanctuary', { battPercent: 100 }));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 2 && bodies.length === 2, 15_000, 'recovery by mail and webhook');
    expect(r.smtp.mails[1]!.text).toMatch(/RECOVERED \(1\):\r?\n {2}Sanctuary +battery low: battery at 100 %/);
    expect(bodies[1]).toMatchObject({ problems: [], recoveries: [{ sensor: 'Sanctuary', kind: 'battery low' }] });
    await r.stop();
    // The hook's secret path never reaches the log.
    expect(logText(r)).toContain(`http://127.0.0.1:${port}/…`);
    expect(logText(r)).not.toContain('secret-token-123');
  });

  it('a `for` rule does not fire on a single spike, fires once the condition has held that long, and the file is re-read on SIGHUP', async () => {
    const dir = tempDir('sensor-alerts-');
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify([{ sensor: 'Basement', when: 'temperatureF < 40', for: '10m' }]));
    const r = await rig({ rulesFile: rules }, { dir });

    await publish(r, reading('Basement', { temperatureF: 38 })); // a spike…
    await cycles(r, 1);
    await publish(r, reading('Basement', { temperatureF: 45 })); // …over after a minute
    await cycles(r, 15);
    expect(problems(r)).toEqual([]);

    await publish(r, reading('Basement', { temperatureF: 39 }));
    await cycles(r, 5);
    await publish(r, reading('Basement', { temperatureF: 38.5 }));
    await cycles(r, 4);
    expect(problems(r)).toEqual([]); // 9 min: not yet
    await cycles(r, 1);
    expect(problems(r).map((p) => p.kind)).toEqual(['temperatureF < 40 for 10m']);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'rule digest');
    expect(r.smtp.mails[0]!.text).toMatch(/Basement +temperatureF < 40 for 10m: temperatureF is 38\.5, since /);

    // SIGHUP: a broken file keeps the current rules; a fixed one replaces them.
    writeFileSync(rules, '[{"sensor": "Basement", "when": "temprature < 40"}]');
    await r.app.reload();
    expect(logText(r)).toMatch(/ERROR \[alerts\] keeping the current alert rules: alert rules file .*rule 1 .*unknown column "temprature"/);
    writeFileSync(rules, JSON.stringify([{ sensor: '*', when: 'temperatureF > 90' }]));
    await r.app.reload();
    expect(logText(r)).toMatch(/INFO \[alerts\] alert rules re-read from .*: 1 rule\(s\)/);
    await cycles(r, 1);
    expect(problems(r)).toEqual([]); // the old rule's problem is forgotten (no recovery line: nothing recovered)
    await publish(r, reading('Kitchen', { temperatureF: 95 }));
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 2, 15_000, 'new rule digest');
    expect(r.smtp.mails[1]!.subject).toMatch(/: 1 sensor problem — Kitchen temperatureF > 90$/);
  });
});

describe('rules across a restart', () => {
  it('a rule that fired stays a problem after a restart while its condition holds, and recovers on a reading that ends it', async () => {
    const { broker, smtp } = await servers();
    const dir = tempDir('sensor-alerts-');
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify([{ sensor: 'Basement', when: 'temperatureF < 40', for: '5m' }]));
    const first = await rig({ rulesFile: rules }, { dir, broker, smtp });
    await publish(first, reading('Basement', { temperatureF: 35 }));
    await cycles(first, 5);
    await waitFor(() => smtp.mails.length === 1, 15_000, 'rule digest');
    await waitFor(() => first.app.sensorAlertChecks!.snapshot()!.outbox.length === 0, 10_000, 'outbox emptied');
    await first.stop();

    const second = await rig({ rulesFile: rules }, { dir, broker, smtp });
    await publish(second, reading('Basement', { temperatureF: 36 })); // still cold, its `for` starts anew
    await cycles(second, 3);
    expect(problems(second)).toEqual([expect.objectContaining({ sensor: 'Basement', kind: 'temperatureF < 40 for 5m', announced: true })]);
    await sleep(200);
    expect(smtp.mails).toHaveLength(1); // no false recovery, no second problem mail
    await publish(second, reading('Basement', { temperatureF: 50 }));
    await cycles(second, 1);
    await waitFor(() => smtp.mails.length === 2, 15_000, 'recovery digest');
    expect(smtp.mails[1]!.text).toMatch(/RECOVERED \(1\):\r?\n {2}Basement +temperatureF < 40 for 5m: temperatureF is 50/);
  });
});

describe('other firmwares', () => {
  it('a Zigbee2MQTT reading without a battery value never counts as "battery low"; its temperature is judged by the rules', async () => {
    const dir = tempDir('sensor-alerts-');
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify([{ sensor: '*', when: 'temperatureF < 40' }]));
    const r = await rig({ batteryLowPercent: 15, rulesFile: rules }, { dir, raw: { topics: ['ECCTempHum', 'zigbee2mqtt/#=z2m'] } });
    const pub = await publisher(r.broker.port);
    // 2 °C = 35.6 °F; no "battery": stored as NULL (the merger may wait for it until its window closes).
    await pub.publishAsync('zigbee2mqtt/Cellar', JSON.stringify({ temperature: 2, humidity: 60 }), { qos: 1 });
    await pub.endAsync();
    for (let i = 0; i < 20 && r.app.readingWriter!.totals.stored === 0; i++) await cycles(r, 1);
    await cycles(r, 1);
    await waitFor(() => r.smtp.mails.length === 1, 15_000, 'rule digest');
    expect(problems(r).map((p) => `${p.sensor} ${p.kind}`)).toEqual(['Cellar temperatureF < 40']);
    expect(r.smtp.mails[0]!.text).toMatch(/Cellar +temperatureF < 40: temperatureF is 35\.6/);
    expect(r.smtp.mails[0]!.text).not.toContain('battery');
  });
});

describe('with PostgreSQL (-d postgres://…)', () => {
  it('a sensor that reported before a restart and never since is found silent: its last reading is read from PostgreSQL', async () => {
    const server = new PostgresServer({ fsync: false });
    await server.start();
    cleanups.push(() => server.destroy());
    const { broker, smtp } = await servers();
    const dir = tempDir('sensor-alerts-pg-');
    const raw: RawOptions = { dbFile: server.url(), clientId: 'sensor-alerts-pg' };
    const first = await rig({ sensorSilenceMinutes: 3 }, { dir, broker, smtp, raw });
    await publish(first, reading('Crypt'));
    await first.stop();

    const second = await rig({ sensorSilenceMinutes: 3 }, { dir, broker, smtp, raw });
    await cycles(second, 3); // Crypt says nothing after this start
    await waitFor(() => smtp.mails.length === 1, 15_000, 'silence digest');
    expect(smtp.mails[0]!.subject).toMatch(/: 1 sensor problem — Crypt silent$/);
    expect(logText(second)).not.toContain(server.password);
  });
});

describe('mail server down', () => {
  it('keeps the digest queued across a restart, logs the failure once, and delivers problem and recovery in one mail', async () => {
    const { broker, smtp } = await servers();
    await smtp.stop();
    const dir = tempDir('sensor-alerts-');
    const first = await rig({ sensorSilenceMinutes: 2 }, { dir, broker, smtp });
    await publish(first, reading('Pump'));
    await cycles(first, 2);
    await waitFor(() => first.app.sensorAlertChecks!.mailStats.failedTries === 1, 15_000, 'first failed send');
    await cycles(first, 10);
    await publish(first, reading('Pump')); // recovered while the mail server is down
    await cycles(first, 1);
    expect(first.app.sensorAlertChecks!.snapshot()!.outbox.map((l) => `${l.type} ${l.sensor}`)).toEqual(['problem Pump', 'recovery Pump']);
    await first.stop();
    const firstLog = logText(first);
    expect(firstLog.match(/sensor alert digest \(\d+ line\(s\)\) NOT sent/g)).toHaveLength(1);

    await smtp.start();
    const second = await rig({ sensorSilenceMinutes: 2 }, { dir, broker, smtp });
    await cycles(second, 1);
    await waitFor(() => smtp.mails.length === 1, 15_000, 'queued digest delivered');
    const mail = smtp.mails[0]!;
    expect(mail.subject).toMatch(/: 1 sensor problem, 1 recovery — Pump silent$/);
    expect(mail.text).toContain('NEW PROBLEMS (1):');
    expect(mail.text).toContain('RECOVERED (1):');
    // The server has the mail a moment before the listener has its answer.
    await waitFor(() => /INFO \[alerts\] sensor alert digest delivered \(2 line\(s\)\); the mail server had failed since /.test(logText(second)), 10_000, 'delivery logged');
    await cycles(second, 3);
    await sleep(200);
    expect(smtp.mails).toHaveLength(1);
    expect(alertsJson(second).report.undelivered).toEqual({ lines: 0, mailFailingSinceUTC: null });
  });
});
