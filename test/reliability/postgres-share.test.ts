// Three listeners in one MQTT share group on mosquitto, all writing to one PostgreSQL: 30 000 QoS 1
// readings while one member is killed with SIGKILL and restarted (with its own client id, so its
// persistent session and the messages in flight to it come back to it). Every reading must end up
// in the database exactly once, and the database password in no log or console output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { pgCounts, pgQuery, PostgresServer } from '../helpers/postgres.js';
import { publish, spawnListener, type ListenerProcess } from '../helpers/processes.js';
import { sleep, tempDir, waitFor } from '../helpers/util.js';
import { expectNoSecrets, logText, report, startedListener, stopListener } from './common.js';

let broker: TestBroker | undefined;
let server: PostgresServer | undefined;
afterAll(async () => {
  await broker?.stop();
  await server?.destroy();
});

describe('share group on PostgreSQL', () => {
  it('30 000 readings over 3 listeners, one killed and restarted: each stored exactly once', async () => {
    server = new PostgresServer({ fsync: false });
    await server.start();
    broker = await startMosquitto({ persistence: false });
    const url = server.url();
    const members = [0, 1, 2].map((i) => ({ dir: tempDir(`rel-share-${i}-`), args: ['-d', url, '--share-group', 'listeners', '--client-id', `share-member-${i}`, '--qos', '1'] }));
    const running: ListenerProcess[] = [];
    for (const m of members) running.push(await startedListener(m.dir, broker.port, m.args));
    const outputs: string[] = [];
    const total = 30_000;
    // QoS 2 from the publisher so the broker itself receives each reading exactly once.
    const pub = publish(broker.port, { count: total, qos: 2, prefix: 'SH', window: 16 });
    await sleep(2500);
    running[1]!.kill('SIGKILL');
    await running[1]!.exited;
    outputs.push(running[1]!.output());
    await sleep(500);
    running[1] = spawnListener(members[1]!.dir, broker.port, members[1]!.args);
    const published = await pub.done;
    await waitFor(async () => (await pgCounts(url)).distinct >= total, 120_000, 'all readings stored');
    await sleep(500);
    for (const l of running) {
      expect(await stopListener(l)).toBe(0);
      outputs.push(l.output());
    }
    const c = await pgCounts(url);
    // Each member took a share of the stream (the broker spread the group's messages over them).
    const perMember = await Promise.all(
      members.map((m) => Number(/(\d+) readings stored/.exec(logText(m.dir).split('\n').filter((l) => l.includes('stopped:')).pop() ?? '')?.[1] ?? 0)),
    );
    report('share group on PostgreSQL', { ...c, published: published.acked, perMember });
    expect(published.acked).toBe(total);
    expect(c).toEqual({ stored: total, distinct: total, duplicates: 0 });
    expect(perMember.filter((n) => n > 0).length).toBe(3);
    const [held] = await pgQuery<{ n: string }>(url, 'SELECT COUNT(*) AS n FROM "qos2_incoming"');
    expect(Number(held!.n)).toBe(0);
    for (const m of members) {
      expectNoSecrets(m.dir, ...outputs);
      expect(readFileSync(join(m.dir, 'ECCMQTTIoT.log'), 'utf8')).not.toContain(server.password);
    }
    for (const o of outputs) expect(o).not.toContain(server.password);
  });
});
