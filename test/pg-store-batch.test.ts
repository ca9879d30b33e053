// PgReadingStore's batch, against a real PostgreSQL: the usual batch goes in as one statement
// (readings, sensor rows, rejects and the delivery ledger together), and a batch whose reading
// collides with another share-group member's row (same sensor, same microsecond) still stores
// every reading, the colliding one moved on by 1 µs, with nothing half-written in between.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decoders/index.js';
import type { IncomingMessage } from '../src/store/reading-store.js';
import { PgReadingStore } from '../src/store/postgres/pg-store.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { pgQuery, PostgresServer } from './helpers/postgres.js';
import { payload } from './helpers/util.js';

let server: PostgresServer;
const stores: PgReadingStore[] = [];

beforeAll(async () => {
  server = new PostgresServer({ fsync: false });
  await server.start();
});

afterAll(async () => {
  for (const s of stores) await s.close();
  await server?.destroy();
});

async function openStore(clientId: string): Promise<PgReadingStore> {
  const store = new PgReadingStore({ url: server.url(), clientId });
  await store.open();
  stores.push(store);
  return store;
}

function message(packetId: number, text: string, receivedMicros: number, dup = false): IncomingMessage {
  const bytes = Buffer.from(text);
  return { topic: 'ECCTempHum', payload: bytes, receivedMicros, packetId, dup, qos: 1, result: decodePayload('ECCTempHum', bytes) };
}

const T0 = Date.UTC(2026, 0, 1) * 1000;

describe('PostgreSQL batch', () => {
  it('stores readings, sensor rows, rejects and the delivery ledger of a batch together', async () => {
    const a = await openStore('batch-a');
    const outcome = await a.writeBatch([
      message(1, payload('ONE1', 61, '&field8=Office&field9=98:F4:AB:DA:6E:E2&field10=v03.10'), T0),
      message(2, payload('ONE2', 62), T0 + 5),
      message(3, 'not a reading', T0 + 9),
    ]);
    expect(outcome).toMatchObject({ stored: 2, rejected: 1, sensorRows: 1 });
    const rows = await pgQuery<{ sensorName: string; temperatureF: number }>(server.url(), 'SELECT "sensorName", "temperatureF" FROM "ECCTempHum" WHERE "sensorName" LIKE \'ONE%\' ORDER BY 1');
    expect(rows).toEqual([{ sensorName: 'ONE1', temperatureF: 61 }, { sensorName: 'ONE2', temperatureF: 62 }]);
    expect(await pgQuery(server.url(), 'SELECT "location" FROM "ECCTempHumSensor" WHERE "sensorName" = \'ONE1\'')).toEqual([{ location: 'Office' }]);
    expect(await pgQuery(server.url(), 'SELECT "reason" FROM "rejected_messages"')).toHaveLength(1);

    // The ledger went in with them: a fresh store of the same session recognises a redelivery.
    const again = await openStore('batch-a');
    const redelivered = await again.writeBatch([message(2, payload('ONE2', 62), T0 + 100, true)]);
    expect(redelivered).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await pgQuery(server.url(), 'SELECT 1 FROM "ECCTempHum" WHERE "sensorName" = \'ONE2\'')).toHaveLength(1);
  });

  it('a reading whose sensor and microsecond another member already stored is moved on by 1 µs, and the rest of its batch stored once', async () => {
    const a = await openStore('batch-b1');
    const b = await openStore('batch-b2');
    await a.writeBatch([message(1, payload('TWIN', 70), T0)]);
    const outcome = await b.writeBatch([
      message(1, payload('TWIN', 71), T0),
      message(2, payload('SOLO1', 72), T0),
      message(3, payload('SOLO2', 73), T0),
    ]);
    expect(outcome.stored).toBe(3);
    const twin = await pgQuery<{ recordWrittenUTC: string; temperatureF: number }>(
      server.url(),
      'SELECT "recordWrittenUTC", "temperatureF" FROM "ECCTempHum" WHERE "sensorName" = \'TWIN\' ORDER BY 1',
    );
    expect(twin).toEqual([
      { recordWrittenUTC: formatMicrosUTC(T0), temperatureF: 70 },
      { recordWrittenUTC: formatMicrosUTC(T0 + 1), temperatureF: 71 },
    ]);
    expect(await pgQuery(server.url(), 'SELECT 1 FROM "ECCTempHum" WHERE "sensorName" IN (\'SOLO1\', \'SOLO2\')')).toHaveLength(2);
    const ledger = await pgQuery<{ entries: string }>(server.url(), 'SELECT "entries" FROM "delivery_ledger" WHERE "clientId" = \'batch-b2\'');
    expect(ledger.map((l) => (JSON.parse(l.entries) as unknown[]).length)).toEqual([3]);
  });
});
