// Scenario 6 (bad configuration) and 7 (secrets): every mistake a user can make on the command
// line or in a file ends with exit code 2 (config) or 3 (runtime), one clear line, no stack trace.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { BIN, findSecret, SECRET } from '../helpers/processes.js';
import { tempDir } from '../helpers/util.js';

let broker: TestBroker;
const dir = tempDir('rel-config-');
beforeAll(async () => {
  broker = await startAedes({ username: 'reliability', password: 'the-right-one' });
});
afterAll(async () => broker.stop());

function file(name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

// Asynchronous on purpose: the aedes broker runs in this process and must keep answering.
function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '-l', join(dir, 'cfg.log'), '-d', join(dir, 'db.sqlite3'), '--no-console', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('bad configuration', () => {
  mkdirSync(join(dir, 'a-folder'), { recursive: true });
  writeFileSync(join(dir, 'a-file'), 'x');
  const cases: Array<[string, () => string[], number, RegExp]> = [
    ['watchdog period not a number', () => ['-t', 'soon', 'check-config'], 2, /--timer-check.*"soon"/],
    ['zero watchdog period', () => ['-t', '0', 'check-config'], 2, /--timer-check/],
    ['negative silence', () => ['-s', '-1', 'check-config'], 2, /--silence|-1/],
    ['log size with a unit', () => ['-z', '1GB', 'check-config'], 2, /--archive-log-size.*"1GB"/],
    ['fractional archive count', () => ['-a', '1.5', 'check-config'], 2, /--max-log-archives/],
    ['port out of range', () => ['--port', '0x50', 'check-config'], 2, /--port/],
    ['QoS 5', () => ['--qos', '5', 'check-config'], 2, /--qos/],
    ['unknown flag', () => ['--databse', 'x', 'check-config'], 2, /unknown option/],
    ['missing named credentials file', () => ['-c', join(dir, 'nope.txt'), 'check-config'], 2, /does not exist/],
    ['empty credentials file', () => ['-c', file('empty.txt', '\n# only a comment\n'), 'check-config'], 2, /is empty/],
    ['credentials without a comma', () => ['-c', file('nocomma.txt', `just-a-password-${SECRET}\n`), 'check-config'], 2, /no comma/],
    ['credentials path is a folder', () => ['-c', join(dir, 'a-folder'), 'check-config'], 2, /cannot read credentials file/],
    ['database folder cannot be created', () => ['-d', join(dir, 'a-file', 'sub', 'db.sqlite3'), '--port', '1'], 2, /cannot start/],
    ['broker host does not resolve (check-config)', () => ['-b', 'no-such-broker.invalid', 'check-config'], 2, /does not resolve.*-b\/--broker/],
    ['wrong MQTT password', () => ['--port', String(broker.port), '-c', file('wrong.txt', `reliability,${SECRET}\n`)], 3, /refused the credentials/],
  ];
  it.each(cases)('%s → the right exit code and one clear line', async (_name, args, code, line) => {
    const r = await run(args());
    expect(r.code).toBe(code);
    const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('warning:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(findSecret(r.out + r.err)).toBeUndefined();
  });

  it('credentials readable by others produce a warning', async () => {
    const r = await run(['-c', file('loose.txt', `reliability,${SECRET}\n`, 0o644), 'check-config']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: .*readable by other users/);
    expect(findSecret(r.out + r.err)).toBeUndefined();
  });
});
