// The write path on a real SQLite file: group commit, redelivery suppression, timestamps, failures.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import { ReadingStore, type IncomingMessage } from '../src/store/reading-store.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import type { Logger } from '../src/logging/types.js';
import { DurableIncomingStore } from '../src/mqtt/qos2-store.js';
import { ManualClock } from './helpers/manual-clock.js';
import { formatMicrosUTC, parseMicrosUTC } from '../src/store/time.js';
import { count, payload, query, tempDir, waitFor } from './helpers/util.js';

function message(text: string, extra: Partial<IncomingMessage> = {}): IncomingMessage {
  const p = Buffer.from(text);
  return { topic: 'ECCTempHum', payload: p, receivedMicros: 1_700_000_000_000_000, dup: false, result: decodePayload('ECCTempHum', p), ...extra };
}

describe('ReadingStore', () => {
  it('formats receive times as the original did and parses them back', () => {
    const micros = Date.UTC(2026, 10, 23, 9, 5, 7) * 1000 + 123_456;
    expect(formatMicrosUTC(micros)).toBe('2026-11-23 09:05:07.123456');
    expect(parseMicrosUTC('2026-11-23 09:05:07.123456')).toBe(micros);
  });

  it('keeps two readings of one sensor received in the same microsecond (bumped by 1 µs)', () => {
    const dir = tempDir();
    const store = new ReadingStore(join(dir, 'db', 'x.sqlite3'));
    store.open();
    store.writeBatch([message(payload('A', 70)), message(payload('A', 71)), message(payload('B', 72))]);
    store.writeBatch([message(payload('A', 73))]);
    store.close();
    const rows = query<{ recordWrittenUTC: string; sensorName: string }>(join(dir, 'db', 'x.sqlite3'), 'SELECT recordWrittenUTC, sensorName FROM ECCTempHum ORDER BY sensorName, recordWrittenUTC');
    expect(rows.map((r) => `${r.sensorName} ${r.recordWrittenUTC.slice(-6)}`)).toEqual(['A 000000', 'A 000001', 'A 000002', 'B 000000']);
  });

  it('stores a redelivered (DUP) QoS 1 packet once, but a new packet with the same id and payload again', () => {
    const dir = tempDir();
    const file = join(dir, 'x.sqlite3');
    const store = new ReadingStore(file);
    store.open();
    const first = store.writeBatch([message(payload('A', 70), { packetId: 7 })]);
    store.close();
    // Process restarted (ledger is on disk), broker redelivers with DUP.
    const again = new ReadingStore(file);
    again.open();
    const redelivered = again.writeBatch([message(payload('A', 70), { packetId: 7, dup: true })]);
    const fresh = again.writeBatch([message(payload('A', 70), { packetId: 7, dup: false, receivedMicros: 1_700_000_600_000_000 })]);
    const otherPayload = again.writeBatch([message(payload('A', 75), { packetId: 7, dup: true, receivedMicros: 1_700_000_700_000_000 })]);
    again.close();
    expect([first.stored, redelivered.duplicates, fresh.stored, otherPayload.stored]).toEqual([1, 1, 1, 1]);
    expect(count(file, 'ECCTempHum')).toBe(3);
  });

  it('commits nothing of a failed batch and leaves the sensor cache untouched', () => {
    const dir = tempDir();
    const file = join(dir, 'x.sqlite3');
    const store = new ReadingStore(file);
    store.open();
    store.database.exec("CREATE TRIGGER fail BEFORE INSERT ON ECCTempHum WHEN NEW.sensorName = 'BOOM' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    const meta = '&field8=Office&field9=M&field10=v1';
    expect(() => store.writeBatch([message(payload('A', 70, meta)), message(payload('BOOM', 70))])).toThrow(/disk on fire/);
    expect(count(file, 'ECCTempHum')).toBe(0);
    store.writeBatch([message(payload('A', 70, meta))]);
    expect(count(file, 'ECCTempHumSensor')).toBe(1);
    store.close();
  });
});

describe('ReadingWriter', () => {
  it('runs commit callbacks only after COMMIT and retries a locked database without losing anything', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.sqlite3');
    const store = new ReadingStore(file, { busyTimeoutMs: 50 });
    store.open();
    const errors: string[] = [];
    const writer = new ReadingWriter(store, { retryInitialMs: 20, retryMaxMs: 100, onCommitError: (e) => errors.push(e.message) });
    // Another process-like connection holds the write lock.
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const committed: number[] = [];
    for (let i = 0; i < 10; i++) writer.submit(message(payload(`S${i}`, 70)), () => committed.push(i));
    await new Promise((r) => setTimeout(r, 200));
    expect(committed).toEqual([]);
    expect(errors[0]).toMatch(/locked|busy/i);
    other.exec('COMMIT');
    other.close();
    await waitFor(() => committed.length === 10, 5000, 'commit after lock released');
    expect(committed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(count(file, 'ECCTempHum')).toBe(10);
    expect(await writer.stop()).toBe(0);
    store.close();
  });

  it('gathers a busy stream into one commit, and commits at once when a turn brings nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.sqlite3');
    const store = new ReadingStore(file);
    store.open();
    let t = 1000;
    let step = 0;
    const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
    const writer = new ReadingWriter(store, { now: () => (t += step), maxGatherMs: 1000 });
    // A lone message on a quiet writer is committed within the turn.
    writer.submit(message(payload('S0', 70)));
    await nextTurn();
    await nextTurn();
    expect(writer.totals.commits).toBe(1);
    // That commit "took" 20 ms: while every turn brings messages, the next one gathers up to 20 ms.
    step = 20;
    writer.submit(message(payload('S1', 70)));
    writer.flush();
    step = 0;
    expect(writer.totals.commits).toBe(2);
    for (let turn = 0; turn < 5; turn++) {
      writer.submit(message(payload(`T${turn}`, 70)));
      await nextTurn();
    }
    expect(writer.totals.commits).toBe(2);
    expect(writer.pending).toBe(5);
    // A turn without a new message: commit now (and this commit "takes" 20 ms again).
    step = 20;
    await nextTurn();
    await nextTurn();
    step = 0;
    expect(writer.totals.commits).toBe(3);
    expect(count(file, 'ECCTempHum')).toBe(7);
    // Messages keep coming: gathered until the window (20 ms after the last commit) has passed.
    writer.submit(message(payload('U0', 70)));
    await nextTurn();
    expect(writer.totals.commits).toBe(3);
    writer.submit(message(payload('U1', 70)));
    t += 25;
    await nextTurn();
    expect(writer.totals.commits).toBe(4);
    expect(count(file, 'ECCTempHum')).toBe(9);
    await writer.stop();
    store.close();
  });

  it('asks the producer to wait past the high-water mark and releases it after the flush', async () => {
    const dir = tempDir();
    const store = new ReadingStore(join(dir, 'x.sqlite3'));
    store.open();
    const writer = new ReadingWriter(store, { highWater: 3, maxBatch: 1000 });
    expect(writer.submit(message(payload('A', 70)))).toBe(true);
    expect(writer.submit(message(payload('B', 70)))).toBe(true);
    expect(writer.submit(message(payload('C', 70)))).toBe(false);
    let drained = false;
    writer.onDrain(() => (drained = true));
    await waitFor(() => drained, 2000, 'drain');
    expect(writer.pending).toBe(0);
    await writer.stop();
    store.close();
  });
});

describe('QoS 2 messages held between PUBREC and PUBREL (DurableIncomingStore)', () => {
  const publish = (messageId: number, sensor: string) =>
    ({ cmd: 'publish', qos: 2, messageId, topic: 'ECCTempHum', payload: Buffer.from(payload(sensor, 70)), dup: false, retain: false }) as const;
  const lines: string[] = [];
  const log = { error: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), info: () => undefined, debug: () => undefined } as unknown as Logger;

  it('calls back (PUBREC may leave) only once the message is committed; the reading commit removes it', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.sqlite3');
    const store = new ReadingStore(file);
    store.open();
    const clock = new ManualClock();
    const incoming = new DurableIncomingStore(store, { log, timers: clock });
    // The disk is "full": keeping the message fails, so no callback (no PUBREC) ...
    const db = store.database;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    let acked = 0;
    const big = { ...publish(7, 'Q7'), payload: Buffer.alloc(60_000, 'x') };
    incoming.put(big, () => acked++);
    await new Promise((r) => setImmediate(r));
    expect(acked).toBe(0);
    expect(lines.join('\n')).toMatch(/cannot keep 1 QoS 2 message\(s\) before acknowledging them/);
    // ... until there is room again: the retry commits it and calls back.
    db.pragma('max_page_count = 1073741823');
    clock.advance(1000);
    expect(acked).toBe(1);
    expect(count(file, 'qos2_incoming')).toBe(1);
    // PUBREL: MQTT.js asks for it by packet id.
    incoming.put(publish(8, 'Q8'), () => acked++);
    await new Promise((r) => setImmediate(r));
    const got = await new Promise<unknown>((resolve) => incoming.get({ messageId: 8 }, (err, p) => resolve(err ?? p)));
    expect(got).toMatchObject({ cmd: 'publish', qos: 2, messageId: 8, topic: 'ECCTempHum' });
    // Committing its reading (QoS 2, same packet id) removes it in the same transaction.
    store.writeBatch([{ ...message(payload('Q8', 70)), packetId: 8, qos: 2 }]);
    expect(query(file, 'SELECT packetId FROM qos2_incoming')).toEqual([{ packetId: 7 }]);
    const gone = await new Promise<unknown>((resolve) => incoming.get({ messageId: 8 }, (err) => resolve(err)));
    expect(gone).toBeInstanceOf(Error);
    incoming.stop();
    store.close();
  });
});

describe('QoS 2 orphans', () => {
  it('a held message whose packet id comes back with another message is handed over before it is replaced', async () => {
    const dir = tempDir();
    const store = new ReadingStore(join(dir, 'x.sqlite3'));
    store.open();
    const orphans: string[] = [];
    const log = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Logger;
    const incoming = new DurableIncomingStore(store, { log, onOrphan: (h) => orphans.push(h.payload.toString()) });
    const put = (id: number, text: string, dup = false): Promise<void> =>
      new Promise((resolve) => {
        incoming.put({ cmd: 'publish', qos: 2, messageId: id, topic: 'ECCTempHum', payload: Buffer.from(text), dup, retain: false }, () => resolve());
      });
    await put(3, payload('OLD', 70));
    // The same message again (a DUP redelivery): not an orphan.
    await put(3, payload('OLD', 70), true);
    expect(orphans).toEqual([]);
    // The broker lost the session and reuses id 3 for a new message: the old one is handed over first.
    await put(3, payload('NEW', 71));
    expect(orphans).toEqual([payload('OLD', 70)]);
    expect(store.heldQos2(3)?.payload.toString()).toBe(payload('NEW', 71));
    incoming.stop();
    store.close();
  });
});
