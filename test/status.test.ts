// `status` against a database filled through a real broker by the real listener process.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatAge } from '../src/status.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { startAedes } from './helpers/brokers.js';
import { BIN, filesIn, kill, startListener } from './helpers/service.js';
import { count, payload, publisher, tempDir, waitFor } from './helpers/util.js';

function status(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('status', () => {
  it('reports per sensor the last reading, values and age, plus totals; --stale exits 1 naming the quiet sensor', async () => {
    const broker = await startAedes();
    const dir = tempDir('status-');
    const f = filesIn(dir);
    const l = await startListener(dir, ['-b', '127.0.0.1', '--port', String(broker.port)]);
    try {
      const pub = await publisher(broker.port);
      await pub.publishAsync('ECCTempHum', payload('ECCTH01', 70.5), { qos: 1 });
      await pub.publishAsync('ECCTempHum', payload('ECCTH01', 72.25, '&field8=Office&field9=98:F4:AB:DA:6E:E2&field10=v03.10'), { qos: 1 });
      await pub.publishAsync('ECCTempHum', 'field1=40.00&field2=65.00&field3=55.50&field4=3.70&field5=61.00&field6=-71&field7=ECCTH02', { qos: 1 });
      await pub.publishAsync('ECCTempHum', 'field2=abc&field7=ECCTH03', { qos: 1 }); // rejected
      await pub.endAsync();
      await waitFor(() => count(f.db, 'ECCTempHum') === 3 && count(f.db, 'rejected_messages') === 1, 10_000, 'readings stored');

      // While the listener runs, status says so (it reads the lock, not the broker).
      const live = status(['-d', f.db, 'status', '--json']);
      expect(live.code).toBe(0);
      expect(JSON.parse(live.out).listener).toMatchObject({ running: true, pid: l.pid });
    } finally {
      l.child.kill('SIGTERM');
      await l.exited;
      kill(l);
      await broker.stop();
    }

    // A sensor that went quiet two hours ago (its reading written as the listener would have).
    const db = new Database(f.db);
    const old = formatMicrosUTC((Date.now() - 2 * 3600_000) * 1000);
    db.prepare('INSERT INTO ECCTempHum VALUES (?, 41, 66, 50, 3.5, 40, -80, ?)').run(old, 'ECCTH00');
    db.close();

    const r = status(['-d', f.db, 'status', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.listener).toEqual({ running: false });
    expect(s.totals).toMatchObject({ sensors: 3, readings: 4, rejectedMessages: 1, firstReadingUTC: old });
    expect(s.sensors.map((x: { sensorName: string }) => x.sensorName)).toEqual(['ECCTH00', 'ECCTH01', 'ECCTH02']);
    const [quiet, th01, th02] = s.sensors;
    expect(th01).toMatchObject({ location: 'Office', temperatureF: 72.25, relHumidityPercent: 39.17, dewPointF: 47.1, battVoltage: 3.41, battPercent: 93.53, apRSSI: -67 });
    expect(th01.ageSeconds).toBeLessThan(60);
    expect(th02).toMatchObject({ location: null, temperatureF: 65, relHumidityPercent: 55.5, apRSSI: -71 });
    expect(s.totals.lastReadingUTC).toBe([th01.lastReadingUTC, th02.lastReadingUTC].sort()[1]);
    expect(quiet.lastReadingUTC).toBe(old);
    expect(Math.abs(quiet.ageSeconds - 7200)).toBeLessThan(60);
    expect(s.stale).toBeUndefined();

    const stale = status(['-d', f.db, 'status', '--json', '--stale', '30m']);
    expect(stale.code).toBe(1);
    const ss = JSON.parse(stale.out);
    expect(ss).toMatchObject({ stale: true, staleAfterSeconds: 1800, staleSensors: ['ECCTH00'] });
    expect(ss.sensors.map((x: { stale: boolean }) => x.stale)).toEqual([true, false, false]);

    expect(status(['-d', f.db, 'status', '--stale', '3h']).code).toBe(0);

    const human = status(['-d', f.db, 'status', '--stale', '30']); // bare number: minutes
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/3 sensor\(s\), 4 reading\(s\), 1 rejected message\(s\)/);
    expect(human.out).toMatch(/listener: not running/);
    expect(human.out).toMatch(/^ECCTH00 .* 2h .*STALE$/m);
    expect(human.out).toMatch(/^ECCTH01 +Office .*72\.25/m);
    expect(human.out).toMatch(/STALE: 1 sensor\(s\) without a reading for more than 30m: ECCTH00/);
  });

  it('an empty database with --stale is stale; a missing one or a bad --stale is exit 2 with one line', () => {
    const dir = tempDir('status-empty-');
    const f = filesIn(dir);
    const missing = status(['-d', f.db, 'status']);
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toMatch(/^error: database .*ECCTempHum\.sqlite3 does not exist/);

    const db = new Database(f.db);
    db.exec('CREATE TABLE ECCTempHum (recordWrittenUTC TEXT, dewPointF REAL, temperatureF REAL, relHumidityPercent REAL, battVoltage REAL, battPercent REAL, apRSSI INTEGER, sensorName TEXT, PRIMARY KEY (sensorName, recordWrittenUTC))');
    db.close();
    const empty = status(['-d', f.db, 'status', '--stale', '1h', '--json']);
    expect(empty.code).toBe(1);
    expect(JSON.parse(empty.out)).toMatchObject({ stale: true, staleSensors: [], totals: { sensors: 0, readings: 0, firstReadingUTC: null } });

    const bad = status(['-d', f.db, 'status', '--stale', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toMatch(/--stale must be a duration/);

    const notOurs = tempDir('status-other-') + '/other.sqlite3';
    new Database(notOurs).close();
    const other = status(['-d', notOurs, 'status']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/is not a listener database/);
  });

  it('formats ages for people', () => {
    expect([45, 723, 1800, 3 * 3600 + 300, 7200, 52 * 3600, -1].map(formatAge)).toEqual(['45s', '12m 3s', '30m', '3h 5m', '2h', '2d 4h', '?']);
  });
});
