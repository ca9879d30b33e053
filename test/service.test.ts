// Running unattended, with real processes: one instance per database (exit 4), stale locks taken
// over, SIGTERM mid-stream commits and acknowledges exactly what is stored, SIGHUP reopens the
// log and re-reads the credentials file.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { currentBoot, formatLock } from '../src/instance-lock.js';
import { reloadSignals, stopSignals } from '../src/run.js';
import { EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { freePort, startAedes } from './helpers/brokers.js';
import { publish } from './helpers/processes.js';
import { startSmtp } from './helpers/smtp.js';
import { filesIn, kill, launch, listenerArgs, readIfExists, startListener, type Running } from './helpers/service.js';
import { count, payload, publisher, query, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
function track(r: Running): Running {
  cleanups.push(() => kill(r));
  return r;
}

async function stopWith(r: Running, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const sent = Date.now();
  r.child.kill(signal);
  const e = await r.exited;
  return { code: e.code, ms: e.at - sent };
}

describe('single instance per database', () => {
  it('a second listener on the same database exits 4 with one clear line; the first keeps storing', async () => {
    const dir = tempDir('svc-lock-');
    const f = filesIn(dir);
    const port = await freePort();
    const first = track(await startListener(dir, ['--embedded-broker', '--port', String(port)]));
    expect(readFileSync(f.lock, 'utf8').split('\n')[0]).toBe(String(first.pid));

    const second = track(launch(listenerArgs(dir, ['--embedded-broker', '--port', String(await freePort())]), { cwd: dir }));
    const e = await second.exited;
    expect(e.code).toBe(4);
    const lines = second.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`another instance \\(pid ${first.pid}, started .*\\) is already writing .*ECCTempHum\\.sqlite3`));
    expect(lines[0]).toContain(f.lock);
    expect(readFileSync(f.lock, 'utf8').split('\n')[0]).toBe(String(first.pid));

    const pub = await publisher(port);
    await pub.publishAsync('ECCTempHum', payload('ECCTH01', 70), { qos: 1 });
    await pub.endAsync();
    await waitFor(() => count(f.db, 'ECCTempHum') === 1, 10_000, 'reading stored by the first listener');

    expect((await stopWith(first, 'SIGTERM')).code).toBe(0);
    expect(existsSync(f.lock)).toBe(false);
    // Now the database is free: a new listener starts.
    const third = track(await startListener(dir, ['--embedded-broker', '--port', String(port)]));
    expect((await stopWith(third, 'SIGTERM')).code).toBe(0);
  });

  it('takes over the lock of a listener that died without cleaning up', async () => {
    const dir = tempDir('svc-stale-');
    const f = filesIn(dir);
    // A real PID that certainly ran and has ended.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    expect(deadPid).toBeGreaterThan(0);
    writeFileSync(f.lock, formatLock({ pid: deadPid, host: hostname(), boot: currentBoot(), startedAt: '2026-01-01T00:00:00.000Z' }));

    const l = track(await startListener(dir, ['--embedded-broker', '--port', String(await freePort())]));
    expect(readFileSync(f.lock, 'utf8').split('\n')[0]).toBe(String(l.pid));
    expect(readFileSync(f.log, 'utf8')).toContain(`took over stale lock of pid ${deadPid}`);
    expect((await stopWith(l, 'SIGTERM')).code).toBe(0);
    expect(existsSync(f.lock)).toBe(false);
  });
});

describe('signals', () => {
  it('Windows: Ctrl+C, Ctrl+Break and closing the console stop gracefully; POSIX: SIGHUP reloads', () => {
    expect(stopSignals('win32')).toEqual(expect.arrayContaining(['SIGINT', 'SIGBREAK', 'SIGHUP']));
    expect(reloadSignals('win32')).toEqual([]);
    expect(stopSignals('linux')).toEqual(['SIGINT', 'SIGTERM']);
    expect(reloadSignals('linux')).toEqual(['SIGHUP']);
  });

  it('SIGTERM right after start, while the client is still connecting to the embedded broker: exits 0 with no error trace', async () => {
    const dir = tempDir('svc-early-');
    const port = await freePort();
    const r = track(launch(listenerArgs(dir, ['--embedded-broker', '--port', String(port)]), { cwd: dir }));
    // As soon as the log shows the client connecting (before CONNACK is certain), stop it.
    await waitFor(() => readIfExists(filesIn(dir).log).includes('connecting to mqtt://'), 20_000, 'client connecting');
    const { code } = await stopWith(r, 'SIGTERM');
    expect(r.stderr()).not.toMatch(/ECONNRESET|Unhandled|at /);
    expect(code).toBe(0);
  });

  it('SIGTERM during a stream: exits 0 within 5 s, every acknowledged reading is stored, the rest arrive after a restart', async () => {
    const broker = new EmbeddedBroker({ port: await freePort() });
    await broker.start();
    cleanups.push(() => broker.stop());
    const clientId = 'sigterm-listener';
    let acked = 0;
    broker.aedes.on('ack', (_packet, client) => {
      if (client?.id === clientId) acked++;
    });
    const dir = tempDir('svc-term-');
    const f = filesIn(dir);
    const args = ['-b', '127.0.0.1', '--port', String(broker.port), '--client-id', clientId, '--log-level', 'info'];
    const l = track(await startListener(dir, args));

    const total = 5000;
    const pub = publish(broker.port, { count: total, qos: 1, prefix: 'T', window: 5 });
    cleanups.push(() => void pub.child.kill('SIGKILL'));
    await waitFor(() => count(f.db, 'ECCTempHum') >= 500, 30_000, '500 readings stored');
    const stop = await stopWith(l, 'SIGTERM');
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(5000);

    const stored = count(f.db, 'ECCTempHum');
    expect(stored).toBeLessThan(total); // really stopped mid-stream
    expect(stored).toBe(acked); // acknowledged ⇔ committed
    expect(readFileSync(f.log, 'utf8')).toMatch(/SIGTERM received: stopping[\s\S]*stopped: \d+ readings stored/);

    // What the broker still holds for the session arrives after a restart, each reading once.
    expect((await pub.done).acked).toBe(total);
    const again = track(await startListener(dir, args));
    await waitFor(() => count(f.db, 'ECCTempHum') >= total, 30_000, 'all readings stored');
    expect((await stopWith(again, 'SIGTERM')).code).toBe(0);
    const [c] = query<{ n: number; d: number }>(f.db, 'SELECT COUNT(*) AS n, COUNT(DISTINCT sensorName) AS d FROM ECCTempHum');
    expect(c).toEqual({ n: total, d: total });
  });

  it('SIGHUP reopens the log files after they were moved away: new lines land in the new files', async () => {
    const dir = tempDir('svc-hup-');
    const f = filesIn(dir);
    const debugLog = join(dir, 'mqtt-debug.log');
    const port = await freePort();
    const l = track(await startListener(dir, ['--embedded-broker', '--port', String(port), '--mqtt-debug-log', debugLog]));
    const moved = `${f.log}-20261123`;
    renameSync(f.log, moved); // what logrotate (dateext) does before signalling
    renameSync(debugLog, `${debugLog}-20261123`);
    l.child.kill('SIGHUP');
    await waitFor(() => readIfExists(f.log).includes('log files reopened'), 10_000, 'a new log file');

    const pub = await publisher(port);
    await pub.publishAsync('ECCTempHum', 'field2=70&field7=', { qos: 1 }); // rejected: logged as a warning
    await pub.endAsync();
    await waitFor(() => readIfExists(f.log).includes('rejected message'), 10_000, 'warning in the new log');
    expect((await stopWith(l, 'SIGTERM')).code).toBe(0);

    const before = readFileSync(moved, 'utf8');
    const after = readFileSync(f.log, 'utf8');
    expect(before).toContain('subscribed to');
    expect(before).not.toContain('rejected message');
    expect(after).toContain('credentials unchanged');
    expect(after).toMatch(/stopped: /);
    // MQTT.js's own output after the reload (the publish's packets, the disconnect) is in a new file too.
    expect(readIfExists(debugLog)).toMatch(/mqttjs/);
    expect(readFileSync(`${debugLog}-20261123`, 'utf8')).toMatch(/mqttjs/);
  });

  it('SIGHUP re-reads the credentials file: a corrected password connects without a restart', async () => {
    const broker = await startAedes({ username: 'listener', password: 'new-secret-9f3' });
    cleanups.push(() => broker.stop());
    const dir = tempDir('svc-creds-');
    const f = filesIn(dir);
    const creds = join(dir, 'creds.txt');
    writeFileSync(creds, 'listener,old-secret-1a2\n');
    chmodSync(creds, 0o600);
    const l = track(
      launch(listenerArgs(dir, ['-b', '127.0.0.1', '--port', String(broker.port), '-c', creds, '--retry-auth-failures']), { cwd: dir }),
    );
    await waitFor(() => /bad username or password/i.test(readIfExists(f.log)), 15_000, 'login refused');
    expect(readIfExists(f.log)).not.toContain('subscribed to');

    writeFileSync(creds, 'listener,new-secret-9f3\n');
    l.child.kill('SIGHUP');
    await waitFor(() => readIfExists(f.log).includes('subscribed to'), 15_000, 'connected with the new password');
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, username: 'listener', password: 'new-secret-9f3' });
    await pub.publishAsync('ECCTempHum', payload('ECCTH01', 71), { qos: 1 });
    await pub.endAsync();
    await waitFor(() => count(f.db, 'ECCTempHum') === 1, 10_000, 'reading stored');

    // A file that became invalid is reported and the working credentials are kept.
    writeFileSync(creds, 'no comma here\n');
    l.child.kill('SIGHUP');
    await waitFor(() => readIfExists(f.log).includes('keeping the current MQTT credentials'), 10_000, 'bad file reported');
    expect(l.child.exitCode).toBeNull();
    expect((await stopWith(l, 'SIGTERM')).code).toBe(0);
    const everything = readFileSync(f.log, 'utf8') + l.stderr() + l.stdout();
    expect(everything).toContain('credentials changed');
    expect(everything).not.toContain('old-secret-1a2');
    expect(everything).not.toContain('new-secret-9f3');
  });

  it('SIGHUP re-reads the mail credentials file: alerts that were only logged are mailed from then on', async () => {
    const smtp = await startSmtp({ mode: 'plain', user: 'alerts@example.org', pass: 'mail-pass-77x' });
    cleanups.push(() => smtp.stop());
    const dir = tempDir('svc-mail-');
    const f = filesIn(dir);
    const mailFile = join(dir, 'mail.txt');
    // A quiet broker and a 1.2 s watchdog: "no messages" alerts keep coming, never muted (-s 0).
    const l = track(
      await startListener(dir, [
        '--embedded-broker', '--port', String(await freePort()), '-t', '0.02', '-s', '0',
        '-m', mailFile, '--smtp-host', '127.0.0.1', '--smtp-port', String(smtp.port), '--no-smtp-secure',
      ]),
    );
    expect(readFileSync(f.log, 'utf8')).toMatch(/alerts are written to this log only/);

    writeFileSync(mailFile, 'alerts@example.org,mail-pass-77x,None,ops@example.org\n');
    chmodSync(mailFile, 0o600);
    l.child.kill('SIGHUP');
    await waitFor(() => readIfExists(f.log).includes('mail credentials changed: alerts go from alerts@example.org to ops@example.org'), 10_000, 'mail credentials re-read');
    await waitFor(() => smtp.mails.length > 0, 20_000, 'an alert mail');
    expect(smtp.mails[0]!.envelopeTo).toEqual(['ops@example.org']);
    expect(smtp.mails[0]!.subject).toMatch(/no messages/);
    expect((await stopWith(l, 'SIGTERM')).code).toBe(0);
    expect(readFileSync(f.log, 'utf8') + l.stderr()).not.toContain('mail-pass-77x');
  });
});
