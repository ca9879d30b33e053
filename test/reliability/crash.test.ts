// Scenario 1: SIGKILL the listener 10 times while 20 000 QoS 1 readings stream in. Every reading
// published must end up in the database exactly once (persistent session, same client id).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { publish, spawnListener, type ListenerProcess } from '../helpers/processes.js';
import { sleep, tempDir, waitFor } from '../helpers/util.js';
import { counts, expectNoSecrets, logText, report, startedListener, stopListener } from './common.js';

let broker: TestBroker | undefined;
afterAll(async () => broker?.stop());

describe('crash safety', () => {
  it('20 000 readings, listener killed with SIGKILL 10 times: each stored exactly once', async () => {
    broker = await startMosquitto({ persistence: true });
    const dir = tempDir('rel-crash-');
    const args = ['--client-id', 'crash-listener', '--qos', '1'];
    let listener: ListenerProcess = await startedListener(dir, broker.port, args);
    const outputs: string[] = [];
    const total = 20_000;
    // QoS 2 from the publisher so the broker itself receives each reading exactly once.
    const pub = publish(broker.port, { count: total, qos: 2, prefix: 'C', window: 8 });
    let kills = 0;
    for (let k = 0; k < 10; k++) {
      await sleep(300 + Math.floor(Math.random() * 700));
      listener.kill('SIGKILL');
      await listener.exited;
      outputs.push(listener.output());
      kills++;
      listener = spawnListener(dir, broker.port, args);
    }
    const published = await pub.done;
    const db = join(dir, 'ECCTempHum.sqlite3');
    await waitFor(() => counts(db, total).distinct === total, 90_000, 'all readings stored');
    // The last listener may still be starting (the rows can all be in before it is up).
    const lastPid = `(pid ${listener.child.pid})`;
    await waitFor(() => {
      const log = logText(dir);
      const at = log.lastIndexOf(lastPid);
      return at >= 0 && log.indexOf('subscribed to', at) > at;
    }, 30_000, 'last listener up');
    await sleep(300);
    expect(await stopListener(listener)).toBe(0);
    outputs.push(listener.output());
    const c = counts(db, published.acked);
    report('crash safety', { ...c, kills });
    expect(published.acked).toBe(total);
    expect(c.stored).toBe(total);
    expect(c.duplicates).toBe(0);
    expectNoSecrets(dir, ...outputs);
  });
});
