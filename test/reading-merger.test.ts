// Values a device publishes one per message (Shelly gen 1, ESPHome) become ONE row when they
// arrive within 2 s; each message is acknowledged only after the commit of the row it went into,
// and nothing waiting for its window is lost at stop(). Real ReadingStore/ReadingWriter on a
// SQLite file; a manual clock for the window.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageDecoder } from '../src/decoders/index.js';
import { ReadingMerger } from '../src/ingest/reading-merger.js';
import type { IncomingMessage } from '../src/store/reading-store.js';
import { ReadingStore } from '../src/store/reading-store.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { ManualClock } from './helpers/manual-clock.js';
import { query, tempDir, waitFor } from './helpers/util.js';

const decoder = new MessageDecoder([{ subscription: '#', format: 'auto' }]);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup() {
  const dir = tempDir();
  const store = new ReadingStore(join(dir, 'db.sqlite3'));
  store.open();
  const clock = new ManualClock(1_700_000_000_000);
  const writer = new ReadingWriter(store, { timers: clock });
  const merger = new ReadingMerger({ timers: clock, submit: (m, c) => writer.submit(m, c) });
  cleanups.push(async () => {
    merger.stop();
    await writer.stop();
    store.close();
  });
  let micros = 1_700_000_000_000_000;
  let packetId = 1;
  const acked: number[] = [];
  const add = (topic: string, payload: string): number => {
    const p = Buffer.from(payload);
    const id = packetId++;
    const message: IncomingMessage = { topic, payload: p, receivedMicros: micros++, packetId: id, dup: false, qos: 1, result: decoder.decode(topic, p) };
    expect(message.result.kind).toBe('part');
    merger.add(message, () => acked.push(id));
    return id;
  };
  const rows = () => query<Record<string, unknown>>(store.path, 'SELECT * FROM ECCTempHum ORDER BY recordWrittenUTC');
  return { store, clock, writer, merger, add, acked, rows };
}

describe('ReadingMerger', () => {
  it('Shelly gen 1 temperature, humidity and battery within 2 s are ONE reading', async () => {
    const t = setup();
    t.add('shellies/shellyht-6A9C3B/sensor/temperature', '22.38');
    t.clock.advance(300);
    t.add('shellies/shellyht-6A9C3B/sensor/humidity', '51');
    t.clock.advance(1000);
    expect(t.merger.pending).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.acked).toEqual([]); // nothing acknowledged before its row is committed
    t.add('shellies/shellyht-6A9C3B/sensor/battery', '87'); // all a Shelly H&T sends: closes now
    expect(t.merger.pending).toBe(0);
    await waitFor(() => t.acked.length === 3, 5000, 'acks after the commit');
    const rows = t.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sensorName: 'shellyht-6A9C3B', temperatureF: 72.284, relHumidityPercent: 51, battPercent: 87, battVoltage: null, apRSSI: null });
    expect(rows[0]!['dewPointF']).toBeCloseTo(53.15, 1);
    expect(t.acked).toEqual([1, 2, 3]);
  });

  it('without a battery value the window stays open its 2 s', async () => {
    const t = setup();
    t.add('node1/sensor/node1_temperature/state', '20.0');
    t.add('node1/sensor/node1_humidity/state', '40');
    t.clock.advance(1999);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.acked).toEqual([]);
    t.clock.advance(1);
    await waitFor(() => t.acked.length === 2, 5000, 'acks after the commit');
    expect(t.rows()).toHaveLength(1);
  });

  it('values more than 2 s apart, or the same value again, start a new reading', async () => {
    const t = setup();
    t.add('node1/sensor/node1_temperature/state', '20.0');
    t.add('node1/sensor/node1_humidity/state', '40');
    t.add('node1/sensor/node1_temperature/state', '20.5'); // the device's next round
    t.clock.advance(2500);
    t.add('node1/sensor/node1_humidity/state', '41');
    t.clock.advance(2500);
    await waitFor(() => t.acked.length === 4, 5000, 'all acknowledged');
    const rows = t.rows();
    expect(rows.map((r) => [r['temperatureF'], r['relHumidityPercent']])).toEqual([[68, 40], [68.9, null], [null, 41]]);
  });

  it('different devices are merged apart', async () => {
    const t = setup();
    t.add('a/sensor/a_temperature/state', '20');
    t.add('b/sensor/b_temperature/state', '25');
    t.add('a/sensor/a_humidity/state', '30');
    t.add('b/sensor/b_humidity/state', '35');
    t.clock.advance(2000);
    await waitFor(() => t.acked.length === 4, 5000, 'all acknowledged');
    expect(t.rows().map((r) => [r['sensorName'], r['relHumidityPercent']]).sort()).toEqual([['a', 30], ['b', 35]]);
  });

  it('a battery value alone is ignored (acknowledged, no row)', async () => {
    const t = setup();
    t.add('shellies/ht/sensor/battery', '90');
    t.clock.advance(2000);
    await waitFor(() => t.acked.length === 1, 5000, 'acknowledged');
    expect(t.rows()).toHaveLength(0);
    expect(t.writer.totals.ignored).toBe(1);
  });

  it('stop() hands every open window to the writer, whose stop commits it: nothing lost', async () => {
    const t = setup();
    t.add('shellies/ht/sensor/temperature', '21');
    t.add('shellies/ht/sensor/humidity', '45');
    t.merger.stop();
    expect(await t.writer.stop()).toBe(0);
    expect(t.acked).toEqual([1, 2]);
    expect(t.rows()).toHaveLength(1);
    t.merger.stop(); // idempotent
  });
});
