// The pure and file-level parts of the alerts: credentials lines, mail wording and Date header,
// the last-notice file, and the watchdog's timing (driven by a ManualClock).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localTime, minutes, noMessagesAlert, rfc5322Date, type AlertContext } from '../src/alerts/alert-text.js';
import { parseMailCredentials } from '../src/alerts/mail-account.js';
import { MuteState, parseLastNotice } from '../src/alerts/mute-state.js';
import { retryPlanFor } from '../src/alerts/watchdog-alerts.js';
import type { Logger } from '../src/logging/types.js';
import { Watchdog } from '../src/watchdog.js';
import { ManualClock } from './helpers/manual-clock.js';
import { tempDir } from './helpers/util.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

describe('mail credentials line', () => {
  it.each([
    ['v02.10 form, trimmed', ' a@gmail.com , pw123 , myhost.local , b@x.org ', { from: 'a@gmail.com', password: 'pw123', localHostName: 'myhost.local', to: ['b@x.org'] }],
    ['None host name means not set', 'a@gmail.com,pw,None,b@x.org', { from: 'a@gmail.com', password: 'pw', to: ['b@x.org'] }],
    ['several recipients with ;', 'a@gmail.com,pw,none,b@x.org; c@y.org ;', { from: 'a@gmail.com', password: 'pw', to: ['b@x.org', 'c@y.org'] }],
    ['older two-field form: recipient is the sender', 'a@gmail.com,pw', { from: 'a@gmail.com', password: 'pw', to: ['a@gmail.com'] }],
    ['to None: recipient is the sender', 'a@gmail.com,pw,host,None', { from: 'a@gmail.com', password: 'pw', localHostName: 'host', to: ['a@gmail.com'] }],
    ['app password with spaces kept as typed', 'a@gmail.com,abcd efgh ijkl mnop', { from: 'a@gmail.com', password: 'abcd efgh ijkl mnop', to: ['a@gmail.com'] }],
  ])('%s', (_name, line, expected) => {
    expect(parseMailCredentials(line)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['a@gmail.com', /found 1 field/],
    ['a@gmail.com,pw,host,b@x.org,extra', /found 5 field/],
    [',pw', /from address \(field 1\) is empty/],
    ['pw,a@gmail.com', /from address \(field 1\) is not an e-mail address/],
    ['a@gmail.com,', /app password \(field 2\) is empty/],
    ['a@gmail.com,pw,host,bob', /recipient "bob"/],
    ['a@gmail.com,pw,my host,b@x.org', /local host name/],
  ])('rejects %j with a reason', (line, reason) => {
    const r = parseMailCredentials(line);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(reason);
      expect(r.reason).not.toMatch(/\bpw\b/); // never echoes the password, even with the fields swapped
    }
  });
});

describe('alert text', () => {
  const savedTz = process.env['TZ'];
  afterEach(() => {
    if (savedTz === undefined) delete process.env['TZ'];
    else process.env['TZ'] = savedTz;
  });

  it('Date header is RFC 5322 in the machine zone, daylight saving time included', () => {
    process.env['TZ'] = 'Europe/Berlin';
    expect(rfc5322Date(new Date('2026-07-01T10:00:00Z'))).toBe('Wed, 01 Jul 2026 12:00:00 +0200');
    expect(rfc5322Date(new Date('2026-01-05T10:00:00Z'))).toBe('Mon, 05 Jan 2026 11:00:00 +0100');
    process.env['TZ'] = 'America/New_York';
    expect(rfc5322Date(new Date('2026-07-01T10:00:00Z'))).toBe('Wed, 01 Jul 2026 06:00:00 -0400');
    // The night the clocks go back: the same wall-clock hour twice, told apart by the offset.
    expect(rfc5322Date(new Date('2026-11-01T05:30:00Z'))).toBe('Sun, 01 Nov 2026 01:30:00 -0400');
    expect(rfc5322Date(new Date('2026-11-01T06:30:00Z'))).toBe('Sun, 01 Nov 2026 01:30:00 -0500');
    process.env['TZ'] = 'Asia/Kolkata';
    expect(rfc5322Date(new Date('2026-07-01T10:00:00Z'))).toBe('Wed, 01 Jul 2026 15:30:00 +0530');
    expect(localTime(Date.parse('2026-07-01T10:00:00Z'))).toBe('2026-07-01 15:30:00 +0530');
    for (const d of ['Wed, 01 Jul 2026 15:30:00 +0530']) expect(Date.parse(d)).toBe(Date.parse('2026-07-01T10:00:00Z'));
  });

  it('minutes are written the way people write them', () => {
    expect(minutes(20 * 60_000)).toBe('20');
    expect(minutes(90_000)).toBe('1.5');
    expect(minutes(15_000)).toBe('0.25');
    expect(minutes(300)).toBe('0.005');
    expect(minutes(1440 * 60_000)).toBe('1440');
  });

  const ctx: AlertContext = {
    host: 'boxA', broker: 'mqtt://10.0.0.5:1883', version: 'mqtt-iot-listener 1.0.0 (2026-11-23)', pid: 42, startedAt: Date.parse('2026-11-23T08:00:00Z'),
    periodMs: 20 * 60_000, silenceMs: 1440 * 60_000, lastNoticeFile: 'x.dat', messages: 12, readings: 10, rejected: 2, lastSensor: 'ECCTH07',
  };

  it('"no messages" subject and body carry what the team needs', () => {
    const at = Date.parse('2026-11-23T10:00:00Z');
    const m = noMessagesAlert(ctx, { at, restartNumber: 3, outageRestarts: 1, silentForMs: 20 * 60_000, lastMessageAt: at - 20 * 60_000, lastReadingAt: at - 25 * 60_000, rejectedSinceLastReading: 2 });
    expect(m.subject).toBe('[mqtt-iot-listener] boxA: no messages for 20 min — listener restarted');
    expect(m.text).toContain('restart #3 since start');
    expect(m.text).toContain('the last 2 message(s) before the silence could not be decoded');
    expect(m.text).toMatch(/Last sensor seen: +ECCTH07/);
    expect(m.text).toMatch(/Broker: +mqtt:\/\/10\.0\.0\.5:1883/);
    expect(m.text).toMatch(/Since start: +12 message\(s\): 10 reading\(s\) stored, 2 rejected/);
    expect(m.text).toContain('mqtt-iot-listener 1.0.0 (2026-11-23), pid 42');
    const failed = noMessagesAlert(ctx, { at, restartNumber: 1, outageRestarts: 1, silentForMs: 20 * 60_000, rejectedSinceLastReading: 0, restartError: 'boom' });
    expect(failed.subject).toBe('[mqtt-iot-listener] boxA: no messages for 20 min — listener restart FAILED');
    expect(failed.text).toMatch(/Last message: +none since start/);
  });

  it('retries fit in the period: 3 tries, waits of period/8 and period/4, capped', () => {
    expect(retryPlanFor(20 * 60_000)).toEqual({ tries: 3, firstDelayMs: 60_000 });
    expect(retryPlanFor(4 * 60_000)).toEqual({ tries: 3, firstDelayMs: 30_000 });
    const p = retryPlanFor(60_000);
    expect(p.firstDelayMs + 2 * p.firstDelayMs).toBeLessThan(60_000);
  });
});

describe('last-notice file', () => {
  it('records atomically as ISO-8601 UTC JSON and reads it back', async () => {
    const dir = tempDir('mute-');
    const file = join(dir, 'sub', 'ECCMQTTIoT_Last_Notice.dat');
    const log = recordingLogger();
    const m = new MuteState(file, log);
    await m.load();
    expect(m.lastAlertAt).toBeUndefined();
    expect(log.lines).toEqual([]); // a missing file is the normal first run
    const at = Date.parse('2026-11-23T10:00:00.123Z');
    await m.record(at, 'subject');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ lastAlertUTC: '2026-11-23T10:00:00.123Z', subject: 'subject' });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['ECCMQTTIoT_Last_Notice.dat']); // no temp file left
    const again = new MuteState(file, log);
    await again.load();
    expect(again.lastAlertAt).toBe(at);
    expect(again.mutedUntil(at + 60_000, 1440 * 60_000)).toBe(at + 1440 * 60_000);
    expect(again.mutedUntil(at + 1440 * 60_000, 1440 * 60_000)).toBeUndefined();
    expect(again.mutedUntil(at + 1, 0)).toBeUndefined(); // -s 0: never muted
  });

  it.each([
    ['python pickle', Buffer.from('80049525000000000000008c086461746574696d65948c', 'hex')],
    ['empty', Buffer.alloc(0)],
    ['JSON without the time', Buffer.from('{"x":1}')],
    ['a time that is not ISO', Buffer.from('{"lastAlertUTC":"yesterday"}')],
  ])('%s: "no alert sent yet" with one warning', async (_name, content) => {
    const file = join(tempDir('mute-'), 'n.dat');
    writeFileSync(file, content);
    const log = recordingLogger();
    const m = new MuteState(file, log);
    await m.load();
    expect(m.lastAlertAt).toBeUndefined();
    expect(log.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(m.mutedUntil(Date.now(), 1440 * 60_000)).toBeUndefined();
  });

  it('a file that cannot be written is logged, not thrown, and the mute still holds in memory', async () => {
    const dir = tempDir('mute-');
    const file = join(dir, 'is-a-dir');
    mkdirSync(file);
    const log = recordingLogger();
    const m = new MuteState(file, log);
    await m.record(1_000_000);
    expect(log.lines.some((l) => l.startsWith('error cannot write last-notice file'))).toBe(true);
    expect(m.mutedUntil(1_000_001, 60_000)).toBe(1_060_000);
    expect(readdirSync(dir)).toEqual(['is-a-dir']);
  });

  it('parses only our format', () => {
    expect(parseLastNotice('{"lastAlertUTC":"2026-11-23T10:00:00Z"}')).toBe(Date.parse('2026-11-23T10:00:00Z'));
    expect(parseLastNotice('null')).toBeUndefined();
    expect(parseLastNotice('{"lastAlertUTC":"2026-13-45T99:00:00Z"}')).toBeUndefined();
  });
});

describe('watchdog timing', () => {
  const PERIOD = 20 * 60_000;

  function dog(restart: () => Promise<void> = async () => undefined) {
    const clock = new ManualClock(Date.parse('2026-11-23T10:00:00Z'));
    const log = recordingLogger();
    const silences: number[] = [];
    const recoveries: boolean[] = [];
    const w = new Watchdog({
      periodMs: PERIOD,
      timers: clock,
      log,
      restart,
      onNoMessages: (f) => silences.push(f.silentForMs),
      onRecovered: (f) => recoveries.push(f.firstMessageDecoded),
    });
    return { clock, log, silences, recoveries, w };
  }
  const settle = () => new Promise((r) => setImmediate(r));

  it('restarts after a silent period, and a message (even an undecodable one) resets the period', async () => {
    const { clock, w, silences } = dog();
    w.start();
    clock.advance(PERIOD - 1);
    await settle();
    expect(w.stats.restarts).toBe(0);
    w.noteMessage(false); // rejected payload: the broker is alive
    clock.advance(PERIOD - 1);
    await settle();
    expect(w.stats.restarts).toBe(0);
    clock.advance(1);
    await settle();
    expect(w.stats.restarts).toBe(1);
    expect(silences).toEqual([PERIOD]);
    clock.advance(PERIOD);
    await settle();
    expect(w.stats.restarts).toBe(2);
    expect(silences).toEqual([PERIOD, 2 * PERIOD]); // silence counted from the last message
    await w.stop();
    expect(clock.pending).toBe(0);
  });

  it('reports recovery once, at the first message after a restart', async () => {
    const { clock, w, recoveries, log } = dog();
    w.start();
    w.noteMessage(true);
    expect(recoveries).toEqual([]); // no outage yet
    clock.advance(PERIOD);
    await settle();
    w.noteMessage(false);
    w.noteMessage(true);
    expect(recoveries).toEqual([false]);
    expect(log.lines.some((l) => /messages arriving again after 20 min and 1 restart\(s\); the first one could not be decoded/.test(l))).toBe(true);
    await w.stop();
  });

  it('a failed restart is logged and tried again next period; the watchdog never gives up', async () => {
    let tries = 0;
    const { clock, w, log } = dog(async () => {
      tries++;
      throw new Error('broker address not resolvable');
    });
    w.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(PERIOD);
      await settle();
    }
    expect(tries).toBe(3);
    expect(w.stats.failedRestarts).toBe(3);
    expect(log.lines.filter((l) => l.startsWith('error restart #'))).toHaveLength(3);
    await w.stop();
    expect(clock.pending).toBe(0);
  });

  it('stop() waits for a restart in progress, leaves no timer and is idempotent', async () => {
    let finish!: () => void;
    const { clock, w } = dog(() => new Promise<void>((r) => (finish = r)));
    w.start();
    clock.advance(PERIOD);
    await settle();
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
    expect(clock.pending).toBe(0);
    await w.stop();
    clock.advance(10 * PERIOD);
    await settle();
    expect(w.stats.restarts).toBe(1);
  });
});
