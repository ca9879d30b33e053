// Scenario 8: 1 000 000 readings at full speed through the real listener process. RSS is sampled
// every second: under 150 MB and no growth after the first 100 000; no file descriptor growth.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { openFds, publish, rssMb } from '../helpers/processes.js';
import { count, sleep, tempDir, waitFor } from '../helpers/util.js';
import { expectNoSecrets, report, startedListener, stopListener } from './common.js';

let broker: TestBroker | undefined;
afterAll(async () => broker?.stop());

const TOTAL = Number(process.env['RELIABILITY_LONG_RUN'] ?? 1_000_000);

describe('long run', () => {
  it(`${TOTAL} readings: RSS bounded and flat, no descriptor growth`, async () => {
    broker = await startMosquitto({ persistence: false, maxQueued: 2_000_000 });
    const dir = tempDir('rel-long-');
    const listener = await startedListener(dir, broker.port, ['--client-id', 'long-listener']);
    const pid = listener.child.pid!;
    const db = join(dir, 'ECCTempHum.sqlite3');
    const samples: Array<{ t: number; stored: number; rssMb: number; fds: number }> = [];
    const started = Date.now();
    // Two publisher processes, 1000 sensors each.
    const half = Math.floor(TOTAL / 2);
    const pubs = [
      publish(broker.port, { count: half, qos: 1, prefix: 'P', sensors: 1000, window: 100 }),
      publish(broker.port, { count: TOTAL - half, start: half, qos: 1, prefix: 'Q', sensors: 1000, window: 100 }),
    ];
    let done = false;
    const sampler = (async () => {
      while (!done) {
        samples.push({ t: Date.now() - started, stored: count(db, 'ECCTempHum'), rssMb: rssMb(pid), fds: openFds(pid) });
        await sleep(1000);
      }
    })();
    await Promise.all(pubs.map((p) => p.done));
    await waitFor(() => count(db, 'ECCTempHum') >= TOTAL, 300_000, 'all readings stored');
    done = true;
    await sampler;
    const elapsedS = (Date.now() - started) / 1000;
    const afterWarmup = samples.filter((s) => s.stored >= Math.min(100_000, TOTAL / 10));
    const peak = Math.max(...samples.map((s) => s.rssMb));
    const first = afterWarmup[0] ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    const maxAfter = Math.max(...afterWarmup.map((s) => s.rssMb));
    report('long run', {
      readings: TOTAL,
      stored: count(db, 'ECCTempHum'),
      seconds: Math.round(elapsedS),
      readingsPerSecond: Math.round(TOTAL / elapsedS),
      peakRssMb: Math.round(peak),
      rssAfterWarmupStartMb: Math.round(first.rssMb),
      rssEndMb: Math.round(last.rssMb),
      fdsStart: first.fds,
      fdsEnd: last.fds,
      samples: samples.length,
    });
    expect(count(db, 'ECCTempHum')).toBe(TOTAL);
    expect(peak).toBeLessThan(150);
    // Flat: nothing after warm-up more than 25 MB above where warm-up ended.
    expect(maxAfter - first.rssMb).toBeLessThan(25);
    expect(last.fds).toBeLessThanOrEqual(first.fds + 2);
    expect(await stopListener(listener)).toBe(0);
    expectNoSecrets(dir, listener.output());
  });
});
