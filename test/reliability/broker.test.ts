// Scenarios 2 and 3: the broker restarts 10 times during a stream, is down when the listener
// starts, or stalls (SIGSTOP) without closing the connection. Nothing acknowledged may be lost.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { publish } from '../helpers/processes.js';
import { sleep, tempDir, waitFor } from '../helpers/util.js';
import { counts, expectNoSecrets, logText, report, startedListener, stopListener } from './common.js';
import { spawnListener } from '../helpers/processes.js';

let broker: (TestBroker & { process(): import('node:child_process').ChildProcess | undefined }) | undefined;
afterEach(async () => {
  const p = broker?.process();
  if (p && p.exitCode === null) p.kill('SIGCONT');
  await broker?.stop();
  broker = undefined;
});

describe('broker outages', () => {
  it('broker restarted 10 times during a stream: reconnects, resubscribes, loses nothing at QoS 1', async () => {
    broker = await startMosquitto({ persistence: true });
    const dir = tempDir('rel-broker-');
    const listener = await startedListener(dir, broker.port, ['--client-id', 'restart-listener']);
    const total = 6000;
    const pub = publish(broker.port, { count: total, qos: 2, prefix: 'B', window: 4, clientId: 'restart-publisher', clean: false });
    const subscribeCount = () => (logText(dir).match(/subscribed to ECCTempHum/g) ?? []).length;
    for (let k = 0; k < 10; k++) {
      await sleep(300);
      const before = subscribeCount();
      await broker.restart();
      // The next outage only once the listener has reconnected and resubscribed to this one.
      await waitFor(() => subscribeCount() > before, 30_000, `resubscribe after broker restart ${k + 1}`);
    }
    const published = await pub.done;
    const db = join(dir, 'ECCTempHum.sqlite3');
    await waitFor(() => counts(db, total).distinct >= total, 120_000, 'all readings stored');
    await sleep(500);
    expect(await stopListener(listener)).toBe(0);
    const c = counts(db, published.acked);
    const log = logText(dir);
    const subscribes = (log.match(/subscribed to ECCTempHum/g) ?? []).length;
    report('broker restarts', { ...c, brokerRestarts: 10, subscribes });
    expect(c.stored).toBe(total);
    expect(c.duplicates).toBe(0);
    expect(subscribes).toBeGreaterThanOrEqual(11);
    expect(log).toMatch(/reconnect attempt 1 in/);
    expectNoSecrets(dir, listener.output());
  });

  it('broker down at start-up: keeps retrying, logs each attempt, connects when it appears', async () => {
    const port = await freePort();
    const dir = tempDir('rel-down-');
    const listener = spawnListener(dir, port, ['--client-id', 'late-listener']);
    await waitFor(() => (logText(dir).match(/reconnect attempt \d+ in/g) ?? []).length >= 2, 20_000, 'two logged attempts');
    expect(listener.child.exitCode).toBeNull();
    broker = await startMosquitto({ persistence: false, port });
    await waitFor(() => logText(dir).includes('subscribed to'), 90_000, 'connected once the broker is up');
    const pub = publish(port, { count: 100, qos: 1, prefix: 'L' });
    await pub.done;
    const db = join(dir, 'ECCTempHum.sqlite3');
    await waitFor(() => counts(db, 100).stored === 100, 20_000, 'readings stored');
    const attempts = (logText(dir).match(/reconnect attempt \d+ in/g) ?? []).length;
    report('broker down at start-up', { attemptsLogged: attempts, stored: 100 });
    expect(await stopListener(listener)).toBe(0);
  });

  it('broker stalls (SIGSTOP) without closing TCP: noticed within keepalive, reconnects after SIGCONT, nothing lost', async () => {
    broker = await startMosquitto({ persistence: true });
    const dir = tempDir('rel-stall-');
    const listener = await startedListener(dir, broker.port, ['--client-id', 'stall-listener', '--keepalive', '2']);
    const db = join(dir, 'ECCTempHum.sqlite3');
    const first = publish(broker.port, { count: 500, qos: 1, prefix: 'S' });
    await first.done;
    await waitFor(() => counts(db, 500).stored === 500, 20_000, 'first readings');
    const stalledAt = Date.now();
    broker.process()!.kill('SIGSTOP');
    await waitFor(() => /Keepalive timeout|connection to broker lost/.test(logText(dir)), 15_000, 'stall noticed');
    const noticedMs = Date.now() - stalledAt;
    broker.process()!.kill('SIGCONT');
    const connectsBefore = (logText(dir).match(/subscribed to/g) ?? []).length;
    await waitFor(() => (logText(dir).match(/subscribed to/g) ?? []).length > connectsBefore, 60_000, 'resubscribed after SIGCONT');
    const second = publish(broker.port, { count: 500, start: 500, qos: 1, prefix: 'S' });
    await second.done;
    await waitFor(() => counts(db, 1000).stored === 1000, 20_000, 'all readings');
    const c = counts(db, 1000);
    report('network stall', { ...c, noticedAfterMs: noticedMs, keepaliveS: 2 });
    expect(noticedMs).toBeLessThan(2 * 2000 + 4000);
    expect(c.duplicates).toBe(0);
    expect(await stopListener(listener)).toBe(0);
  });
});
