// Issue 19: a broker name that does not resolve (yet) at start — DNS or the network not up at
// boot — must not end `run`: it is logged as an error naming the host and the flag, retried with
// the reconnect backoff (lines thinning out), and the listener connects once the name resolves.
// check-config still calls it a mistake (exit 2).
import { join } from 'node:path';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { ListenerApp } from '../src/app.js';
import { AlertMailer } from '../src/alerts/alert-mailer.js';
import { startAedes, type TestBroker } from './helpers/brokers.js';
import { filesIn, kill, launch, listenerArgs, readIfExists, type Running } from './helpers/service.js';
import { count, payload, sleep, tempDir, testConfig, testLogger, waitFor } from './helpers/util.js';
import { readFileSync } from 'node:fs';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A resolver for one made-up name: "not found" until `resolves` is set, then 127.0.0.1. */
function switchableResolver(name: string): { lookup: LookupFunction; asked: () => number; resolves: boolean } {
  let asked = 0;
  const state = {
    resolves: false,
    asked: () => asked,
    lookup: ((host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      asked++;
      if (host !== name || !state.resolves) {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
        process.nextTick(() => callback(err));
      } else if (options.all) {
        process.nextTick(() => callback(null, [{ address: '127.0.0.1', family: 4 }]));
      } else {
        process.nextTick(() => callback(null, '127.0.0.1', 4));
      }
    }) as unknown as LookupFunction,
  };
  return state;
}

describe('a broker host that does not resolve', () => {
  it('keeps running, logs the retries with growing delays, connects and stores once the name resolves', async () => {
    const broker: TestBroker = await startAedes();
    cleanups.push(() => broker.stop());
    const dir = tempDir('unresolved-');
    const name = 'broker.building.test';
    const resolver = switchableResolver(name);
    const logger = testLogger(dir);
    const app = new ListenerApp(testConfig(dir, broker.port, { broker: name }), { logger, onFatal: () => undefined, lookup: resolver.lookup });
    await app.start(); // no longer throws: the name may resolve later
    cleanups.push(async () => {
      await app.stop();
      await logger.close();
    });
    const log = (): string => readFileSync(join(dir, 'test.log'), 'utf8');
    const retryLines = (): string[] => log().split('\n').filter((l) => /does not resolve/.test(l));
    await waitFor(() => retryLines().length >= 3, 30_000, 'three logged retries');
    const lines = retryLines();
    expect(lines[0]).toMatch(/ERROR .*broker host "broker\.building\.test" \(-b\/--broker\) does not resolve \(ENOTFOUND\); reconnect attempt 1 in/);
    const delays = lines.map((l) => Number(/reconnect attempt \d+ in ([\d.]+) s/.exec(l)![1]));
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(delays[2]!).toBeGreaterThan(delays[1]!);
    expect(app.mqtt!.connected).toBe(false);

    resolver.resolves = true;
    await waitFor(() => app.mqtt!.connected && log().includes('subscribed to ECCTempHum'), 30_000, 'connected once the name resolves');
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: 'unresolved-pub' });
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('ECCTempHum', payload('LATEDNS01', 70.1), { qos: 1 });
    await waitFor(() => count(join(dir, 'ECCTempHum.sqlite3'), 'ECCTempHum') === 1, 15_000, 'the reading stored');
  });

  it('the real process stays up on a truly unresolvable name (no-such-host.invalid) and stops cleanly', async () => {
    const dir = tempDir('unresolved-proc-');
    let r: Running | undefined = launch(listenerArgs(dir, ['-b', 'no-such-host.invalid', '--port', '1']), { cwd: dir });
    cleanups.push(() => kill(r));
    const log = filesIn(dir).log;
    const retries = (): number => (readIfExists(log).match(/broker host "no-such-host\.invalid" \(-b\/--broker\) does not resolve/g) ?? []).length;
    await waitFor(() => retries() >= 2 || r!.child.exitCode !== null, 30_000, 'two logged retries');
    expect(r.child.exitCode).toBeNull();
    await sleep(500);
    expect(r.child.exitCode).toBeNull();
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    r = undefined;
    expect(code).toBe(0);
  });

  it('check-config still reports it: exit 2 and one line naming host and flag', async () => {
    const dir = tempDir('unresolved-check-');
    const r = launch(listenerArgs(dir, ['-b', 'no-such-host.invalid', 'check-config']), { cwd: dir });
    cleanups.push(() => kill(r));
    const { code } = await r.exited;
    expect(code).toBe(2);
    expect(r.stderr().trim()).toMatch(/^error: broker host "no-such-host\.invalid" does not resolve \(ENOTFOUND\); check -b\/--broker$/);
  });

  it('a mail server name that does not resolve delays the alert (tried again, logged), never fails the listener', async () => {
    const lines: string[] = [];
    const log = { error: (m: string) => lines.push(`ERROR ${m}`), warn: (m: string) => lines.push(`WARN ${m}`), info: (m: string) => lines.push(`INFO ${m}`), debug: () => undefined };
    const mailer = new AlertMailer(
      { host: 'no-such-mail.invalid', port: 465, secure: true, insecure: false, credentials: { from: 'a@example.org', password: 'Mail-Pw-73', to: ['b@example.org'] }, timeoutMs: 5000 },
      log,
    );
    cleanups.push(() => mailer.stop());
    await expect(mailer.send({ subject: 'test', text: 'x' }, { tries: 2, firstDelayMs: 50 })).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/WARN alert mail "test" failed \(try 1 of 2\) via no-such-mail\.invalid:465 .*(ENOTFOUND|EDNS|getaddrinfo).*; retrying/);
    expect(lines.join('\n')).toMatch(/ERROR alert mail "test" NOT sent after 2 tries .*the listener keeps running/);
    expect(lines.join('\n')).not.toContain('Mail-Pw-73');
  });
});
