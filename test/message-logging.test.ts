// Logging that helps: at debug one line per message (topic, bytes, sensor, stored / rejected /
// duplicate) once it is committed; at info none of those, and a summary line every 10 minutes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import { ActivitySummary } from '../src/logging/activity-summary.js';
import { MessageDebugLog } from '../src/logging/message-log.js';
import type { Logger } from '../src/logging/types.js';
import { ReadingStore, type IncomingMessage } from '../src/store/reading-store.js';
import { startAedes } from './helpers/brokers.js';
import { ManualClock } from './helpers/manual-clock.js';
import { payload, publisher, startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

function message(text: string, extra: Partial<IncomingMessage> = {}): IncomingMessage {
  const p = Buffer.from(text);
  return { topic: 'ECCTempHum', payload: p, receivedMicros: Date.now() * 1000, dup: false, result: decodePayload('ECCTempHum', p), ...extra };
}

function openStore(): ReadingStore {
  const store = new ReadingStore(join(tempDir(), 'db.sqlite3'));
  store.open();
  cleanups.push(() => store.close());
  return store;
}

describe('per-message debug lines', () => {
  it.each([
    ['debug', true],
    ['info', false],
  ] as const)('at --log-level %s, per-message lines: %s', async (level, expected) => {
    const dir = tempDir();
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    await startedApp(dir, broker.port, { logLevel: level }, cleanups);
    const pub = await publisher(broker.port);
    cleanups.push(() => pub.endAsync());
    const good = payload('KITCHEN1', 71.5);
    await pub.publishAsync('ECCTempHum', good, { qos: 1 });
    await pub.publishAsync('ECCTempHum', 'field1=abc', { qos: 1 });
    const log = join(dir, 'test.log');
    await waitFor(() => /rejected message on ECCTempHum/.test(readFileSync(log, 'utf8')), 10_000, 'the rejection logged');
    await waitFor(() => /\d+ readings stored|sensor=KITCHEN1/.test(readFileSync(log, 'utf8')) || !expected, 10_000, 'debug lines');
    const text = readFileSync(log, 'utf8');
    const lines = text.split('\n').filter((l) => l.includes('[message]'));
    if (!expected) {
      expect(lines).toEqual([]);
      return;
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`DEBUG \\[message\\] message topic=ECCTempHum bytes=${good.length} sensor=KITCHEN1 stored$`));
    expect(lines[1]).toMatch(/DEBUG \[message\] message topic=ECCTempHum bytes=10 sensor=- rejected: .+/);
  });

  it('names a QoS redelivery of a committed message a duplicate, through the real store', () => {
    const store = openStore();
    const log = recordingLogger();
    const debug = new MessageDebugLog(log);
    const first = message(payload('PORCH', 60), { packetId: 7, qos: 1 });
    debug.noteBatch(store.writeBatch([first]), [first]);
    const again = { ...first, dup: true };
    const other = message(payload('PORCH', 61), { packetId: 8, qos: 1, receivedMicros: first.receivedMicros + 5 });
    const outcome = store.writeBatch([again, other]);
    debug.noteBatch(outcome, [again, other]);
    expect(log.lines.map((l) => l.replace(/ bytes=\d+/, ''))).toEqual([
      'debug message topic=ECCTempHum sensor=PORCH stored',
      'debug message topic=ECCTempHum sensor=PORCH duplicate (already stored; acknowledged only)',
      'debug message topic=ECCTempHum sensor=PORCH stored',
    ]);
  });
});

describe('10-minute summary', () => {
  it('says every 10 minutes what was stored from how many sensors and what was rejected, then starts over', () => {
    const store = openStore();
    const clock = new ManualClock();
    const log = recordingLogger();
    const summary = new ActivitySummary({ log, timers: clock });
    summary.start();
    summary.start(); // idempotent: still one line per period
    const batch = [message(payload('A', 60)), message(payload('B', 61), { receivedMicros: Date.now() * 1000 + 1 }), message(payload('A', 62), { receivedMicros: Date.now() * 1000 + 2 }), message('nonsense')];
    summary.noteBatch(store.writeBatch(batch), batch);
    clock.advance(9 * 60_000);
    expect(log.lines).toEqual([]);
    clock.advance(60_000);
    expect(log.lines).toEqual(['info last 10 min: 3 reading(s) stored from 2 sensor(s), 1 message(s) rejected']);
    clock.advance(10 * 60_000);
    expect(log.lines[1]).toBe('info last 10 min: 0 reading(s) stored from 0 sensor(s), 0 message(s) rejected');
    summary.stop();
    summary.stop();
    expect(clock.pending).toBe(0);
  });
});
