// Outage recovery end to end, against mosquitto: an edge listener beside the sensors answers, a
// central listener asks. Sensors publish at QoS 0, so what the central one misses while its
// connection is cut (through a TCP relay) or while it is killed is gone from the broker: only the
// edge's answer brings it back. Afterwards the central database must hold every reading exactly
// once, the gap's readings marked 'recovery'.
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerApp } from '../../src/app.js';
import { isoUTC } from '../../src/recovery/messages.js';
import { resolveRecoveryConfig, type RecoveryFlags } from '../../src/recovery/options.js';
import { startMosquitto } from '../helpers/brokers.js';
import { publish } from '../helpers/processes.js';
import { tcpRelay } from '../helpers/relay.js';
import { count, query, sleep, startedApp, tempDir, waitFor } from '../helpers/util.js';
import { logText, report, startedListener, stopListener } from './common.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function recoveryApp(dir: string, port: number, clientId: string, flags: RecoveryFlags): Promise<ListenerApp> {
  return startedApp(dir, port, { clientId }, cleanups, { recovery: resolveRecoveryConfig(flags, clientId) });
}

const dbOf = (dir: string): string => join(dir, 'ECCTempHum.sqlite3');

function sensorsLike(dbFile: string, prefix: string): number {
  return query<{ n: number }>(dbFile, `SELECT COUNT(DISTINCT sensorName) AS n FROM ECCTempHum WHERE sensorName LIKE '${prefix}%'`)[0]!.n;
}

function recoveredLike(dbFile: string, prefix: string): number {
  return query<{ n: number }>(dbFile, `SELECT COUNT(*) AS n FROM reading_sources WHERE source = 'recovery' AND sensorName LIKE '${prefix}%'`)[0]!.n;
}

/** Every reading once: as many rows as distinct sensors (each published reading has its own sensor). */
function expectEachOnce(dbFile: string, total: number): void {
  const [r] = query<{ n: number; d: number }>(dbFile, 'SELECT COUNT(*) AS n, COUNT(DISTINCT sensorName) AS d FROM ECCTempHum');
  expect({ rows: r!.n, sensors: r!.d }).toEqual({ rows: total, sensors: total });
}

describe('outage recovery between an edge and a central listener', () => {
  it('a cut connection: the gap comes back from the edge, once, marked recovery; an overlapping request adds nothing', async () => {
    const broker = await startMosquitto({ persistence: false });
    cleanups.push(() => broker.stop());
    const relay = await tcpRelay(broker.port);
    cleanups.push(() => relay.close());
    const edgeDir = tempDir('rec-edge-');
    const centralDir = tempDir('rec-central-');
    const edge = await recoveryApp(edgeDir, broker.port, 'edge', { serveRecovery: true });
    const central = await recoveryApp(centralDir, relay.port, 'central', { recovery: true, recoveryMinOutage: 1000 });
    const [edgeDb, centralDb] = [dbOf(edgeDir), dbOf(centralDir)];

    await publish(broker.port, { count: 40, qos: 0, prefix: 'PRE' }).done;
    await waitFor(() => count(edgeDb, 'ECCTempHum') === 40 && count(centralDb, 'ECCTempHum') === 40, 20_000, 'PRE readings on both');

    relay.cut();
    await waitFor(() => central.mqtt?.connected === false, 20_000, 'central disconnected');
    await publish(broker.port, { count: 60, qos: 0, prefix: 'GAP' }).done;
    await waitFor(() => count(edgeDb, 'ECCTempHum') === 100, 20_000, 'GAP readings on the edge');
    await sleep(1200); // longer than --recovery-min-outage
    expect(sensorsLike(centralDb, 'GAP')).toBe(0);
    relay.restore();

    await waitFor(() => sensorsLike(centralDb, 'GAP') === 60, 60_000, 'GAP readings recovered by the central listener');
    await publish(broker.port, { count: 40, qos: 0, prefix: 'POST' }).done;
    await waitFor(() => count(centralDb, 'ECCTempHum') >= 140 && count(edgeDb, 'ECCTempHum') === 140, 20_000, 'POST readings');
    await sleep(300);
    expectEachOnce(centralDb, 140);
    expect([recoveredLike(centralDb, 'GAP'), recoveredLike(centralDb, 'PRE'), recoveredLike(centralDb, 'POST')]).toEqual([60, 0, 0]);
    expect(query(centralDb, "SELECT DISTINCT sourceId FROM reading_sources")).toEqual([{ sourceId: 'edge' }]);
    const events = query<{ event: string }>(centralDb, 'SELECT event FROM outage_log ORDER BY id').map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['start', 'connect', 'disconnect', 'reconnect']));
    const first = { ...central.recovery!.ingester!.totals };
    expect(edge.recovery!.responder!.totals).toMatchObject({ answered: 1 });

    // Another request over the whole run (as a second outage's overlapping window would be):
    // the edge answers with all 140 readings, which the central listener already holds.
    const asker = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: 'asker' });
    cleanups.push(() => asker.endAsync());
    const now = Date.now();
    await asker.publishAsync('recovery/request', JSON.stringify({ id: 'central', time: isoUTC(now), lost_connection_time: isoUTC(now - 600_000), restored_connection_time: isoUTC(now) }), { qos: 1 });
    await waitFor(() => central.recovery!.ingester!.totals.duplicates >= first.duplicates + 140, 30_000, 'the overlapping answer ingested');
    expectEachOnce(centralDb, 140);
    expect(central.recovery!.ingester!.totals.stored).toBe(first.stored);
    report('recovery after a cut connection', { published: 140, gap: 60, recovered: first.stored, duplicatesSkippedFirstAnswer: first.duplicates, overlapSkipped: central.recovery!.ingester!.totals.duplicates - first.duplicates });
  });

  it('an outage spanning a SIGKILL of the central listener is requested after its restart', async () => {
    const broker = await startMosquitto({ persistence: false });
    cleanups.push(() => broker.stop());
    const edgeDir = tempDir('rec-edge-kill-');
    const centralDir = tempDir('rec-central-kill-');
    await recoveryApp(edgeDir, broker.port, 'edge-k', { serveRecovery: true });
    const args = ['--recovery', '--recovery-min-outage', '1s', '--client-id', 'central-k', '--node-id', 'central'];
    const [edgeDb, centralDb] = [dbOf(edgeDir), dbOf(centralDir)];

    const first = await startedListener(centralDir, broker.port, args);
    cleanups.push(() => stopListener(first));
    await publish(broker.port, { count: 30, qos: 0, prefix: 'PRE' }).done;
    await waitFor(() => count(edgeDb, 'ECCTempHum') === 30 && count(centralDb, 'ECCTempHum') === 30, 20_000, 'PRE readings on both');
    first.kill('SIGKILL');
    await first.exited;

    await publish(broker.port, { count: 50, qos: 0, prefix: 'GAP' }).done;
    await waitFor(() => count(edgeDb, 'ECCTempHum') === 80, 20_000, 'GAP readings on the edge');
    await sleep(1200);

    const second = await startedListener(centralDir, broker.port, args);
    cleanups.push(() => stopListener(second));
    await waitFor(() => sensorsLike(centralDb, 'GAP') === 50, 60_000, 'GAP readings recovered after the restart');
    await sleep(300);
    expectEachOnce(centralDb, 80);
    expect(recoveredLike(centralDb, 'GAP')).toBe(50);
    expect(recoveredLike(centralDb, 'PRE')).toBe(0);
    const starts = query<{ reason: string }>(centralDb, "SELECT reason FROM outage_log WHERE event = 'start' ORDER BY id");
    expect(starts.map((s) => s.reason)).toEqual(['first start with this database', expect.stringMatching(/not stopped cleanly/)]);
    expect(logText(centralDir)).toMatch(/asking for the readings of the .* s outage/);
    expect(await stopListener(second)).toBe(0);
    expect(query(centralDb, "SELECT event FROM outage_log ORDER BY id DESC LIMIT 1")).toEqual([{ event: 'stop' }]);
    report('recovery after SIGKILL', { published: 80, gap: 50, recovered: recoveredLike(centralDb, 'GAP') });
  });

  it('--announce-topic: "reconnect" on every connection, and the broker publishes the "disconnect" Last Will when the connection drops', async () => {
    const broker = await startMosquitto({ persistence: false });
    cleanups.push(() => broker.stop());
    const relay = await tcpRelay(broker.port);
    cleanups.push(() => relay.close());
    const watcher = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: 'watcher' });
    cleanups.push(() => watcher.endAsync());
    const heard: Array<Record<string, unknown>> = [];
    watcher.on('message', (_t, p) => heard.push(JSON.parse(p.toString()) as Record<string, unknown>));
    await watcher.subscribeAsync('site/status', { qos: 1 });

    const central = await recoveryApp(tempDir('rec-announce-'), relay.port, 'central-a', { recovery: true, announceTopic: 'site/status', nodeId: 'central' });
    await waitFor(() => heard.length >= 1, 10_000, 'the reconnect announcement');
    relay.cut();
    await waitFor(() => heard.length >= 2, 20_000, 'the Last Will');
    relay.restore();
    await waitFor(() => heard.length >= 3 && central.mqtt?.connected === true, 30_000, 'the second reconnect announcement');
    expect(heard.map((h) => [h['connection_status'], h['id']])).toEqual([
      ['reconnect', 'central'],
      ['disconnect', 'central'],
      ['reconnect', 'central'],
    ]);
    for (const h of heard) expect(h['time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});
