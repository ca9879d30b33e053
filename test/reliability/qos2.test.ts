// QoS 2: the listener is killed after it sent PUBREC (the broker now considers the message
// delivered to us and will only send PUBREL) but before PUBREL arrived. The message must still
// be stored, once. A small TCP relay between listener and mosquitto stops passing the broker's
// packets once it has seen the listener's first PUBREC, so the kill lands in exactly that window.
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto } from '../helpers/brokers.js';
import { publish } from '../helpers/processes.js';
import { tcpRelay, type TcpRelay } from '../helpers/relay.js';
import { count, query, sleep, tempDir, waitFor } from '../helpers/util.js';
import { counts, expectNoSecrets, logText, report, startedListener, stopListener } from './common.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * Passes bytes both ways; after the first PUBREC a client sends through it, that connection's
 * broker side is dropped (later connections pass everything). Counts the PUBRECs.
 */
async function pubrecCutRelay(brokerPort: number): Promise<TcpRelay & { pubrecs: number }> {
  let armed = true;
  let pubrecs = 0;
  const relay = await tcpRelay(brokerPort, () => {
    let cut = false;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'pubrec') {
        pubrecs++;
        if (armed) cut = true;
        armed = false;
      }
    });
    return { fromClient: (d) => parser.parse(d), passToClient: () => !cut };
  });
  return Object.defineProperty(relay, 'pubrecs', { get: () => pubrecs }) as TcpRelay & { pubrecs: number };
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

  it('a held message is stored when a broker that lost the session reuses its packet id', async () => {
    const broker = await startMosquitto({ persistence: false });
    const brokerPort = broker.port;
    cleanups.push(() => broker.stop());
    const relay = await pubrecCutRelay(brokerPort);
    cleanups.push(() => relay.close());
    const dir = tempDir('rel-qos2-orphan-');
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const listener = await startedListener(dir, relay.port, ['--qos', '2', '--client-id', 'qos2-orphan']);
    cleanups.push(() => stopListener(listener));
    await publish(brokerPort, { count: 1, qos: 2, prefix: 'HELD' }).done;
    await waitFor(() => relay.pubrecs >= 1, 10_000, "the listener's PUBREC");
    await sleep(200);
    expect(count(dbFile, 'ECCTempHum')).toBe(0);
    // The broker restarts without persistence: the session, and its PUBREL, are gone. The
    // listener reconnects (through the relay: a new connection passes everything) to a new
    // session, whose first message gets packet id 1 again.
    await broker.restart();
    await waitFor(() => (logText(dir).match(/subscribed to/g) ?? []).length >= 2, 20_000, 'resubscribed');
    await publish(brokerPort, { count: 5, qos: 2, prefix: 'NEW' }).done;
    await waitFor(() => count(dbFile, 'ECCTempHum') >= 6, 15_000, 'the held reading and the 5 new ones');
    await sleep(300);
    const c = counts(dbFile, 6);
    report('QoS 2 held message, broker lost the session', c);
    expect(c.stored).toBe(6);
    expect(c.duplicates).toBe(0);
    expect(query(dbFile, "SELECT sensorName FROM ECCTempHum WHERE sensorName = 'HELD0'")).toHaveLength(1);
    expect(logText(dir)).toMatch(/stored 1 QoS 2 message\(s\) whose broker session was lost/);
    expect(await stopListener(listener)).toBe(0);
  });
});
