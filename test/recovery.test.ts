// Outage recovery's parts on a real SQLite file with a hand-moved clock: the outage log across a
// crash and a clean stop, ingesting recovery data (de-duplication, bad entries, bad messages) and
// answering requests (message limits, capped windows, each request once).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { decodePayload } from '../src/decoders/index.js';
import { silentLogger } from '../src/logging/types.js';
import type { InboundMessage } from '../src/mqtt/listener.js';
import { Recovery } from '../src/recovery/index.js';
import { RecoveryIngester } from '../src/recovery/ingest.js';
import { MAX_ANSWER_BYTES, MAX_ANSWER_ENTRIES, isoUTC } from '../src/recovery/messages.js';
import { OutageLog, type Outage } from '../src/recovery/outage-log.js';
import { RecoveryStore } from '../src/recovery/recovery-store.js';
import { resolveRecoveryConfig } from '../src/recovery/options.js';
import { RecoveryRequester } from '../src/recovery/requester.js';
import { RecoveryResponder } from '../src/recovery/responder.js';
import { ensureRecoverySchema } from '../src/recovery/schema.js';
import { ReadingStore } from '../src/store/reading-store.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { ManualClock } from './helpers/manual-clock.js';
import { payload, query, tempDir } from './helpers/util.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function openStore(file: string): ReadingStore {
  const store = new ReadingStore(file);
  store.open();
  ensureRecoverySchema(store.database);
  return store;
}

function inbound(topic: string, body: unknown): InboundMessage {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { topic, payload: Buffer.from(text), qos: 1, packetId: 1, dup: false, retain: false };
}

/** A live reading as the writer stores it, received at `ms`. */
function live(store: ReadingStore, sensor: string, temperatureF: number, ms: number): void {
  const p = Buffer.from(payload(sensor, temperatureF));
  store.writeBatch([{ topic: 'ECCTempHum', payload: p, receivedMicros: ms * 1000, dup: false, result: decodePayload('ECCTempHum', p) }]);
}

function row(sensor: string, temperatureF: number, ms: number): Record<string, unknown> {
  return { sensorName: sensor, recordWrittenUTC: formatMicrosUTC(ms * 1000), dewPointF: 47.1, temperatureF, relHumidityPercent: 39.17, battVoltage: 3.41, battPercent: 93.53, apRSSI: -67 };
}

describe('outage log', () => {
  function outageLog(store: ReadingStore, clock: ManualClock, restored: Outage[]): OutageLog {
    return new OutageLog({ database: () => store.database, timers: clock, heartbeatMs: 30_000, log: silentLogger, onRestored: (o) => restored.push(o) });
  }

  it('keeps the first loss of a connection, and counts a crash from the last heartbeat', () => {
    const file = join(tempDir('outage-'), 'x.sqlite3');
    const clock = new ManualClock(T0);
    const restored: Outage[] = [];
    let store = openStore(file);
    let log = outageLog(store, clock, restored);
    log.start();
    log.connected();
    expect(restored).toEqual([]); // first start ever: nothing was lost
    clock.advance(60_000);
    log.disconnected('keepalive timeout', T0 + 55_000);
    clock.advance(20_000);
    log.disconnected('connect refused', clock.now()); // a second loss does not move the first
    clock.advance(20_000);
    log.connected();
    expect(restored).toEqual([{ lostMs: T0 + 55_000, restoredMs: T0 + 100_000 }]);

    // Heartbeats every 30 s, then the process dies without a word (no stop()).
    clock.advance(95_000); // heartbeats every 30 s from the start: the last at T0 + 180 s
    store.close();
    clock.advance(600_000);
    store = openStore(file);
    log = outageLog(store, clock, restored);
    log.start();
    expect(log.lostSince).toBe(T0 + 180_000);
    clock.advance(2_000);
    log.connected();
    expect(restored[1]).toEqual({ lostMs: T0 + 180_000, restoredMs: T0 + 797_000 });

    // A clean stop: the outage runs from the stop to the next connection.
    clock.advance(10_000);
    log.stop();
    log.stop();
    store.close();
    clock.advance(3_600_000);
    store = openStore(file);
    log = outageLog(store, clock, restored);
    log.start();
    clock.advance(1_000);
    log.connected();
    expect(restored[2]).toEqual({ lostMs: T0 + 807_000, restoredMs: T0 + 4_408_000 });
    log.stop();
    store.close();
    expect(clock.pending).toBe(1); // only the heartbeat of the instance that "crashed"

    const events = query<{ event: string; reason: string }>(file, 'SELECT event, reason FROM outage_log ORDER BY id');
    expect(events.map((e) => e.event)).toEqual(['start', 'connect', 'disconnect', 'disconnect', 'reconnect', 'start', 'reconnect', 'stop', 'start', 'reconnect', 'stop']);
    expect(events[3]!.reason).toMatch(/connect refused \(outage since .* continues\)/);
    expect(events[5]!.reason).toMatch(/not stopped cleanly/);
    expect(events[8]!.reason).toMatch(/after a stop at/);
  });
});

describe('asking for the readings of an outage', () => {
  it('asks only after a long enough outage, asks again while nobody answers, and stops asking once answered', () => {
    const clock = new ManualClock(T0);
    const sent: Array<Record<string, string>> = [];
    const requester = new RecoveryRequester({
      config: resolveRecoveryConfig({ recovery: true, recoveryMinOutage: 60_000 }, 'central'),
      publish: async (topic, text) => {
        expect(topic).toBe('recovery/request');
        sent.push(JSON.parse(text) as Record<string, string>);
      },
      timers: clock,
      log: silentLogger,
    });
    requester.restored({ lostMs: T0 - 59_000, restoredMs: T0 });
    expect(sent).toHaveLength(0);
    requester.restored({ lostMs: T0 - 600_000, restoredMs: T0 });
    expect(sent).toEqual([{ id: 'central', time: isoUTC(T0), lost_connection_time: isoUTC(T0 - 600_000), restored_connection_time: isoUTC(T0) }]);
    clock.advance(120_000);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ time: isoUTC(T0 + 120_000), lost_connection_time: isoUTC(T0 - 600_000) });
    requester.answered('some other request');
    clock.advance(60_000);
    requester.answered(isoUTC(T0 + 120_000));
    clock.advance(600_000);
    expect(sent).toHaveLength(2);
    expect(clock.pending).toBe(0);

    requester.restored({ lostMs: T0, restoredMs: T0 + 3_600_000 });
    clock.advance(3_600_000);
    expect(sent).toHaveLength(5); // three attempts, then it gives up (and says so in the log)
    expect(requester.totals).toMatchObject({ requests: 5, shortOutages: 1, unanswered: 1 });
    expect(clock.pending).toBe(0);
  });
});

describe('an outage asked about but never answered', () => {
  it('is asked about again after a stop, and after a crash, until an answer comes', async () => {
    const file = join(tempDir('unanswered-'), 'x.sqlite3');
    let clock = new ManualClock(T0);
    const asked: Array<Record<string, string>> = [];
    /** A listener process starting (with a clock of its own: a crashed process's timers die with it) and connecting. */
    const boot = (): { store: ReadingStore; recovery: Recovery; hooks: ReturnType<Recovery['listenerHooks']> } => {
      clock = new ManualClock(clock.now());
      const store = openStore(file);
      const recovery = new Recovery({
        config: resolveRecoveryConfig({ recovery: true, recoveryMinOutage: 0 }, 'central'),
        dbFile: file,
        database: () => store.database,
        flushLive: () => true,
        rejectMessage: () => true,
        publish: async (_topic, text) => {
          asked.push(JSON.parse(text) as Record<string, string>);
        },
        timers: clock,
        log: silentLogger,
      });
      recovery.start();
      const hooks = recovery.listenerHooks();
      hooks.onConnect();
      return { store, recovery, hooks };
    };
    let run = boot();
    clock.advance(10_000);
    run.hooks.onConnectionLost('network down', T0 + 10_000);
    clock.advance(600_000);
    run.hooks.onConnect(); // asks for T0+10 s … T0+610 s; nobody answers before the stop
    await run.recovery.stop();
    run.store.close();
    clock.advance(60_000);

    run = boot();
    expect(asked.map((a) => [a['lost_connection_time'], a['restored_connection_time']])).toEqual([
      [isoUTC(T0 + 10_000), isoUTC(T0 + 610_000)],
      [isoUTC(T0 + 10_000), isoUTC(T0 + 670_000)], // from the unanswered outage, not from the stop
    ]);
    clock.advance(5_000); // heartbeats, then a crash: no stop()
    run.store.close();
    clock.advance(60_000);

    run = boot();
    expect(asked[2]).toMatchObject({ lost_connection_time: isoUTC(T0 + 10_000), restored_connection_time: isoUTC(T0 + 735_000) });
    // The answer comes: a stop and start now ask only about the time since the stop.
    run.recovery.requester.answered(asked[2]!['time']);
    await run.recovery.stop();
    run.store.close();
    clock.advance(60_000);
    run = boot();
    expect(asked[3]).toMatchObject({ lost_connection_time: isoUTC(T0 + 735_000), restored_connection_time: isoUTC(T0 + 795_000) });
    await run.recovery.stop();
    run.store.close();
  });
});

describe('ingesting recovery data', () => {
  function setup() {
    const file = join(tempDir('ingest-'), 'x.sqlite3');
    const store = openStore(file);
    const clock = new ManualClock(T0 + 3_600_000);
    const writer = new ReadingWriter(store, { timers: clock });
    const rejected: string[] = [];
    const ingester = new RecoveryIngester({
      nodeId: 'central',
      toleranceMs: 5_000,
      store: new RecoveryStore(() => store.database),
      flushLive: () => writer.flush() && writer.pending === 0,
      rejectMessage: (m, reason, committed) => {
        rejected.push(reason);
        return writer.submit({ topic: m.topic, payload: m.payload, receivedMicros: clock.now() * 1000, dup: false, result: { kind: 'rejection', reason, decoder: 'recovery' } }, committed);
      },
      timers: clock,
      log: silentLogger,
    });
    return { file, store, writer, ingester, rejected, clock };
  }

  it('stores what we miss with its own time and source, and skips what we hold (same key, or same values within the tolerance)', async () => {
    const { file, store, writer, ingester } = setup();
    live(store, 'A', 70, T0);
    live(store, 'B', 71, T0);
    let acked = 0;
    const envelope = {
      id: 'central',
      entity: 'edge-1',
      lost_connection_time: isoUTC(T0 - 10_000),
      restored_connection_time: isoUTC(T0 + 60_000),
      recovery_data: {
        ECCTempHum: [
          row('A', 70, T0), // same (sensorName, recordWrittenUTC)
          row('B', 71, T0 + 3_000), // same values, 3 s later: the other listener's stamp
          row('B', 71, T0 + 30_000), // same values, but well outside the tolerance: a new reading
          row('C', 65.5, T0 + 20_000),
          { time: isoUTC(T0 + 40_000), topic: 'ECCTempHum', payload: payload('D', 66) }, // raw message a gateway kept
          row('E', 500, T0 + 41_000), // impossible temperature
          { ...row('F', 60, T0), recordWrittenUTC: 'yesterday' },
          { ...row('G', 60, T0), battVoltage: 'high' },
          { ...row('H', 60, T0), recordWrittenUTC: formatMicrosUTC((T0 + 5 * 86_400_000) * 1000) }, // days in the future
          { time: isoUTC(T0), payload: 'field1=garbage' },
          42,
        ],
      },
    };
    expect(ingester.accept(inbound('recovery/data', envelope), () => acked++)).toBe(true);
    expect(acked).toBe(1);
    // Delivered twice (overlapping windows, a second answering node): all of it is skipped now.
    ingester.accept(inbound('recovery/data', { ...envelope, entity: 'edge-2' }), () => acked++);
    expect(acked).toBe(2);
    await writer.stop();
    store.close();
    expect(ingester.totals).toMatchObject({ messages: 2, stored: 3, duplicates: 2 + 5, rejectedEntries: 12 });
    const rows = query<{ sensorName: string; recordWrittenUTC: string; temperatureF: number }>(file, 'SELECT sensorName, recordWrittenUTC, temperatureF FROM ECCTempHum ORDER BY sensorName, recordWrittenUTC');
    expect(rows.map((r) => `${r.sensorName} ${r.recordWrittenUTC}`)).toEqual([
      `A ${formatMicrosUTC(T0 * 1000)}`,
      `B ${formatMicrosUTC(T0 * 1000)}`,
      `B ${formatMicrosUTC((T0 + 30_000) * 1000)}`,
      `C ${formatMicrosUTC((T0 + 20_000) * 1000)}`,
      `D ${formatMicrosUTC((T0 + 40_000) * 1000)}`,
    ]);
    const sources = query<{ sensorName: string; source: string; sourceId: string }>(file, 'SELECT sensorName, source, sourceId FROM reading_sources ORDER BY sensorName');
    expect(sources).toEqual([
      { sensorName: 'B', source: 'recovery', sourceId: 'edge-1' },
      { sensorName: 'C', source: 'recovery', sourceId: 'edge-1' },
      { sensorName: 'D', source: 'recovery', sourceId: 'edge-1' },
    ]);
    const rejects = query<{ reason: string; payload: string }>(file, 'SELECT reason, payload FROM rejected_messages ORDER BY id');
    expect(rejects).toHaveLength(12);
    expect(rejects[0]!.reason).toMatch(/recovery entry from edge-1: field2 \(temperature .*\) out of range/);
    expect(rejects[0]!.payload).toContain('"sensorName":"E"');
    expect(rejects.map((r) => r.reason).join('\n')).toMatch(/"recordWrittenUTC" is not a UTC time[\s\S]*"battVoltage" is not a number[\s\S]*not plausible[\s\S]*field[\s\S]*not an object/);
  });

  it('rejects malformed and oversized messages whole, and ignores data for another node', async () => {
    const { file, store, writer, ingester, rejected } = setup();
    let acked = 0;
    const ack = () => acked++;
    ingester.accept(inbound('recovery/data', '{"id": "central", "recovery_data": '), ack);
    ingester.accept(inbound('recovery/data', { id: 'central', recovery_data: { ECCTempHum: 'all of them' } }), ack);
    ingester.accept(inbound('recovery/data', { entity: 'edge', recovery_data: { ECCTempHum: [] } }), ack);
    ingester.accept(inbound('recovery/data', Buffer.alloc(8 * 1024 * 1024 + 1, 0x20).toString()), ack);
    ingester.accept(inbound('recovery/data', { id: 'someone-else', entity: 'edge', recovery_data: { ECCTempHum: [row('X', 70, T0)] } }), ack);
    writer.flush();
    expect(acked).toBe(5);
    expect(rejected).toEqual([
      expect.stringMatching(/not JSON/),
      expect.stringMatching(/no "recovery_data"."ECCTempHum" array/),
      expect.stringMatching(/no "id"/),
      expect.stringMatching(/too large \(8388609 bytes/),
    ]);
    await writer.stop();
    store.close();
    expect(query(file, 'SELECT * FROM ECCTempHum')).toHaveLength(0);
    expect(query(file, 'SELECT * FROM rejected_messages')).toHaveLength(4);
    expect(ingester.totals.notForUs).toBe(1);
  });

  it('acknowledges nothing while the database refuses the commit, and stores it once it takes writes again', async () => {
    const { file, store, writer, ingester, clock } = setup();
    store.database.exec("CREATE TRIGGER fail BEFORE INSERT ON reading_sources BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    let acked = 0;
    ingester.accept(inbound('recovery/data', { id: 'central', entity: 'edge', recovery_data: { ECCTempHum: [row('R', 70, T0)] } }), () => acked++);
    ingester.accept(inbound('recovery/data', { id: 'central', entity: 'edge', recovery_data: { ECCTempHum: [row('S', 70, T0)] } }), () => acked++);
    clock.advance(1_000);
    expect(acked).toBe(0);
    expect(query(file, 'SELECT * FROM ECCTempHum')).toHaveLength(0);
    store.database.exec('DROP TRIGGER fail');
    clock.advance(10_000);
    expect(acked).toBe(2);
    await writer.stop();
    store.close();
    expect(query(file, 'SELECT sensorName FROM ECCTempHum ORDER BY sensorName')).toEqual([{ sensorName: 'R' }, { sensorName: 'S' }]);
  });
});

describe('answering recovery requests', () => {
  function setup(maxWindowMs = 7 * 86_400_000) {
    const file = join(tempDir('serve-'), 'x.sqlite3');
    const store = openStore(file);
    const clock = new ManualClock(T0 + 86_400_000);
    const sent: Array<{ topic: string; body: Record<string, unknown>; bytes: number }> = [];
    const rejected: string[] = [];
    const responder = new RecoveryResponder({
      dbFile: file,
      nodeId: 'edge',
      dataTopic: 'recovery/data',
      toleranceMs: 5_000,
      maxWindowMs,
      database: () => store.database,
      publish: async (topic, text) => {
        sent.push({ topic, body: JSON.parse(text) as Record<string, unknown>, bytes: Buffer.byteLength(text) });
      },
      rejectMessage: (_m, reason, committed) => {
        rejected.push(reason);
        committed();
        return true;
      },
      timers: clock,
      log: silentLogger,
    });
    return { file, store, responder, sent, rejected };
  }

  const request = (id: string, lostMs: number, restoredMs: number, timeMs = restoredMs) =>
    inbound('recovery/request', { id, time: isoUTC(timeMs), lost_connection_time: isoUTC(lostMs), restored_connection_time: isoUTC(restoredMs) });

  const entries = (sent: Array<{ body: Record<string, unknown> }>) => sent.flatMap((s) => (s.body['recovery_data'] as { ECCTempHum: Array<Record<string, unknown>> }).ECCTempHum);

  it('sends the window plus the tolerance in messages of at most 5 000 entries and 256 KiB, each request once', async () => {
    const { store, responder, sent } = setup();
    // 12 000 readings of 3 sensors, one a second from T0; and one just outside each end of the window.
    const tx = store.database.transaction(() => {
      const ins = store.database.prepare('INSERT INTO ECCTempHum VALUES (?, 47.1, 70, 39.1, 3.4, 93, -67, ?)');
      for (let i = 0; i < 12_000; i++) ins.run(formatMicrosUTC((T0 + Math.floor(i / 3) * 1000) * 1000), `S${i % 3}`);
      ins.run(formatMicrosUTC((T0 - 5_001) * 1000), 'S0');
      ins.run(formatMicrosUTC((T0 + 4_004_001) * 1000), 'S0');
    });
    tx();
    responder.start();
    let acked = 0;
    responder.accept(request('central', T0 + 5_000, T0 + 3_999_000), () => acked++);
    // The same request again (a QoS 1 redelivery), while and after it is answered: answered once.
    responder.accept(request('central', T0 + 5_000, T0 + 3_999_000), () => acked++);
    responder.accept(request('edge', T0, T0 + 1000), () => acked++); // our own request
    await waitForAnswers(responder, 1);
    responder.accept(request('central', T0 + 5_000, T0 + 3_999_000), () => acked++);
    expect(acked).toBe(4);
    expect(responder.totals).toMatchObject({ answered: 1, repeated: 2 });
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) {
      expect(s.topic).toBe('recovery/data');
      expect(s.bytes).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
      expect(entries([s]).length).toBeLessThanOrEqual(MAX_ANSWER_ENTRIES);
      expect(s.body).toMatchObject({ id: 'central', entity: 'edge', lost_connection_time: isoUTC(T0 + 5_000), restored_connection_time: isoUTC(T0 + 3_999_000) });
    }
    expect(sent.map((s) => s.body['last'])).toEqual([...sent.slice(1).map(() => false), true]);
    // Seconds 0 … 3999 of each sensor, all in the window ± 5 s; the two outside it are not sent.
    const got = entries(sent);
    expect(got).toHaveLength(12_000);
    expect(new Set(got.map((e) => `${String(e['sensorName'])} ${String(e['recordWrittenUTC'])}`)).size).toBe(12_000);
    expect(got[0]).toEqual({ sensorName: 'S0', recordWrittenUTC: formatMicrosUTC(T0 * 1000), dewPointF: 47.1, temperatureF: 70, relHumidityPercent: 39.1, battVoltage: 3.4, battPercent: 93, apRSSI: -67 });
    responder.stop();
    store.close();
  });

  it('caps a window longer than --recovery-max-window and says so; rejects a malformed request', async () => {
    const { store, responder, sent, rejected } = setup(3_600_000);
    store.database.prepare('INSERT INTO ECCTempHum VALUES (?, 47.1, 70, 39.1, 3.4, 93, -67, ?)').run(formatMicrosUTC((T0 + 1000) * 1000), 'OLD');
    store.database.prepare('INSERT INTO ECCTempHum VALUES (?, 47.1, 70, 39.1, 3.4, 93, -67, ?)').run(formatMicrosUTC((T0 + 86_000_000) * 1000), 'NEW');
    responder.start();
    responder.accept(request('central', T0, T0 + 86_400_000), () => undefined);
    responder.accept(inbound('recovery/request', { id: 'central', time: 'now' }), () => undefined);
    responder.accept(inbound('recovery/request', 'not json'), () => undefined);
    await waitForAnswers(responder, 1);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatchObject({ window_capped: true, requested_lost_connection_time: isoUTC(T0), lost_connection_time: isoUTC(T0 + 86_400_000 - 3_600_000), last: true });
    expect(entries(sent).map((e) => e['sensorName'])).toEqual(['NEW']);
    expect(rejected).toEqual([expect.stringMatching(/"time" is not an ISO 8601/), expect.stringMatching(/not JSON/)]);
    responder.stop();
    store.close();
  });
});

async function waitForAnswers(responder: RecoveryResponder, n: number): Promise<void> {
  for (let i = 0; i < 2000 && responder.totals.answered < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(responder.totals.answered).toBe(n);
}

describe('recovery flags', () => {
  async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const db = join(tempDir('flags-'), 'x.sqlite3');
    const code = await main(['node', 'mqtt-iot-listener', '-d', db, '--client-id', 'listener-7', ...args, 'check-config'], { out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
    return { code, out, err };
  }

  it('resolves both roles with their defaults, the node id defaulting to the client id', async () => {
    const r = await run('--recovery', '--serve-recovery', '--recovery-min-outage', '2m', '--recovery-tolerance', '3', '--announce-topic', 'site/status');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { recovery: unknown }).recovery).toEqual({
      request: true,
      serve: true,
      nodeId: 'listener-7',
      minOutageMs: 120_000,
      requestTopic: 'recovery/request',
      dataTopic: 'recovery/data',
      announceTopic: 'site/status',
      toleranceMs: 3_000,
      maxWindowMs: 7 * 86_400_000,
      heartbeatMs: 30_000,
    });
  });

  it('refuses what cannot work with one line and exit code 2', async () => {
    for (const [args, message] of [
      [['--recovery-tolerance', 'soon'], /--recovery-tolerance must be a duration/],
      [['--recovery-max-window', '0'], /--recovery-max-window must be a duration/],
      [['--recovery-data-topic', 'site/#'], /--recovery-data-topic "site\/#" must be a plain MQTT topic name/],
      [['--recovery-request-topic', 'same', '--recovery-data-topic', 'same'], /must be different topics/],
      [['--node-id', ' '], /--node-id is empty/],
      [['--recovery', '-d', 'postgres://listener@127.0.0.1:5432/readings'], /need an SQLite database/],
    ] as const) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
    }
  });
});
