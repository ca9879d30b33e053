// Scenario 4: 10 000 random and hostile payloads and topics interleaved with valid readings.
// The listener must not crash, must store every valid reading and keep every invalid one.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { rssMb } from '../helpers/processes.js';
import { sleep, tempDir, waitFor, query } from '../helpers/util.js';
import { counts, expectNoSecrets, report, startedListener, stopListener } from './common.js';

let broker: TestBroker | undefined;
afterAll(async () => broker?.stop());

const VALID = (i: number) => `field1=40&field2=${50 + (i % 40)}&field3=45&field4=3.9&field5=80&field6=-60&field7=F${i}`;

/** Deterministic-enough hostile payloads; each one is invalid by construction. */
function hostile(i: number): Buffer | string {
  switch (i % 16) {
    case 0: return randomBytes(1 + (i % 300));
    case 1: return '';
    case 2: return 'field1=40&field2=70&field3=45'; // truncated
    case 3: return VALID(i).replace(/field7=F\d+/, "field7='; DROP TABLE ECCTempHum; --").replace('field2=', 'field2=NaN');
    case 4: return VALID(i).replace(/field2=\d+/, 'field2=Infinity');
    case 5: return VALID(i).replace(/field3=45/, 'field3=1e400');
    case 6: return Array.from({ length: 10_000 }, (_, k) => `field${k}=1`).join('&');
    case 7: return '{"temperature": 70, "sensor": "X"'; // JSON garbage
    case 8: return VALID(i).replace(/field7=F\d+/, 'field7=');
    case 9: return `field1=٤٠&field2=७०&field3=45&field4=3.9&field5=80&field6=-60&field7=Ü${i}`; // non-ASCII digits
    case 10: return Buffer.concat([Buffer.from('field1=40&field2='), Buffer.from([0xc3, 0x28]), Buffer.from('&field7=X')]);
    case 11: return i % 160 === 11 ? Buffer.alloc(200_000, 0x41) : 'field2=70&&&&&&';
    case 12: return VALID(i).replace(/field2=\d+/, 'field2=900');
    case 13: return '\u0000\u0001\u0002=\u0003';
    case 14: return VALID(i).replace(/field6=-60/, 'field6=-60abc');
    default: return 'field1=&field2=&field3=&field4=&field5=&field6=&field7=';
  }
}

describe('fuzzing', () => {
  it('10 000 hostile payloads and topics: never crashes, every valid stored, every invalid kept', async () => {
    broker = await startMosquitto({ persistence: false });
    const dir = tempDir('rel-fuzz-');
    const listener = await startedListener(dir, broker.port, ['--topic', '#', '--client-id', 'fuzz-listener']);
    const pid = listener.child.pid!;
    const client = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: 'fuzzer', reconnectPeriod: 0 });
    const topics = ['ECCTempHum', 'x'.repeat(5000), 'häuser/温度/🌡️', 'a/b/c/d/e/f/g/h/i/j/k', ' spaced topic '];
    let valid = 0;
    let invalid = 0;
    let peakRss = 0;
    for (let i = 0; i < 10_000; i++) {
      const topic = topics[i % topics.length]!;
      await client.publishAsync(topic, hostile(i), { qos: 1 });
      invalid++;
      if (i % 5 === 0) {
        await client.publishAsync(topics[(i + 1) % topics.length]!, VALID(i), { qos: 1 });
        valid++;
      }
      if (i % 1000 === 0) peakRss = Math.max(peakRss, rssMb(pid));
    }
    await client.endAsync();
    const db = join(dir, 'ECCTempHum.sqlite3');
    await waitFor(() => {
      const c = counts(db, valid + invalid);
      return c.stored === valid && c.rejected === invalid;
    }, 60_000, 'all valid stored and all invalid rejected');
    await sleep(300);
    peakRss = Math.max(peakRss, rssMb(pid));
    expect(listener.child.exitCode).toBeNull();
    const c = counts(db, valid + invalid);
    const noReason = query<{ n: number }>(db, "SELECT COUNT(*) AS n FROM rejected_messages WHERE reason IS NULL OR reason = ''")[0]!.n;
    const biggest = query<{ n: number }>(db, 'SELECT MAX(LENGTH(payload)) AS n FROM rejected_messages')[0]!.n;
    report('fuzzing', { valid, invalid, stored: c.stored, rejected: c.rejected, duplicates: c.duplicates, peakRssMb: Math.round(peakRss) });
    expect(c.stored).toBe(valid);
    expect(c.rejected).toBe(invalid);
    expect(noReason).toBe(0);
    expect(biggest).toBeLessThanOrEqual(8192); // 4 KiB of payload, hex at most doubles it
    expect(query(db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(peakRss).toBeLessThan(250);
    expect(await stopListener(listener)).toBe(0);
    expectNoSecrets(dir, listener.output());
  });
});
