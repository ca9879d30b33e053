// QoS 2: the listener is killed after it sent PUBREC (the broker now considers the message
// delivered to us and will only send PUBREL) but before PUBREL arrived. The message must still
// be stored, once. A small TCP relay between listener and mosquitto stops passing the broker's
// packets once it has seen the listener's first PUBREC, so the kill lands in exactly that window.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startMosquitto } from '../helpers/brokers.js';
import { publish } from '../helpers/processes.js';
import { count, query, sleep, tempDir, waitFor } from '../helpers/util.js';
import { counts, expectNoSecrets, logText, report, startedListener, stopListener } from './common.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Relay {
  port: number;
  /** PUBRECs the client sent through the relay. */
  pubrecs: number;
  close(): Promise<void>;
}

/** Passes bytes both ways until the client's first PUBREC; from then on the broker's side is dropped. */
async function pubrecCutRelay(brokerPort: number): Promise<Relay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const relay: Relay = { port, pubrecs: 0, close: async () => undefined };
  let cut = false;
  const server: Server = createServer((client) => {
    const upstream = connect(brokerPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'pubrec') {
        relay.pubrecs++;
        cut = true;
      }
    });
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      parser.parse(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!cut) client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  relay.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return relay;
}

describe('QoS 2 between PUBREC and PUBREL', () => {
  it('a listener killed after PUBREC still stores the message once, after its restart', async () => {
    const broker = await startMosquitto({ persistence: false });
    cleanups.push(() => broker.stop());
    const relay = await pubrecCutRelay(broker.port);
    cleanups.push(() => relay.close());
    const dir = tempDir('rel-qos2-');
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const args = ['--qos', '2', '--client-id', 'qos2-listener'];

    const first = await startedListener(dir, relay.port, args);
    cleanups.push(() => stopListener(first));
    await publish(broker.port, { count: 20, qos: 2, prefix: 'Q' }).done;
    await waitFor(() => relay.pubrecs >= 1, 10_000, "the listener's first PUBREC");
    await sleep(300);
    first.kill('SIGKILL');
    await first.exited;
    // In the window: PUBREC sent, PUBREL never seen, so nothing is stored yet.
    expect(count(dbFile, 'ECCTempHum')).toBe(0);

    // Back, straight to the broker, same persistent session: the broker sends PUBREL for the first
    // message (and the other 19 as usual).
    const second = await startedListener(dir, broker.port, args);
    cleanups.push(() => stopListener(second));
    await waitFor(() => count(dbFile, 'ECCTempHum') >= 20, 15_000, 'all 20 readings');
    await sleep(500);
    const c = counts(dbFile, 20);
    report('QoS 2 killed between PUBREC and PUBREL', { ...c, pubrecsBeforeKill: relay.pubrecs });
    expect(c.stored).toBe(20);
    expect(c.duplicates).toBe(0);
    expect(query(dbFile, 'SELECT sensorName FROM ECCTempHum WHERE sensorName = ?', 'Q0')).toHaveLength(1);
    expect(logText(dir)).toMatch(/QoS 2 message\(s\) received before the last stop/);
    expect(await stopListener(second)).toBe(0);
    expectNoSecrets(dir, first.output(), second.output());
  });
});
