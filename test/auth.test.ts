// Credentials end to end: the embedded/aedes broker requires them; a refused login is exit code 3.
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from './helpers/brokers.js';
import { tempDir } from './helpers/util.js';

const BIN = fileURLToPath(new URL('../bin/mqtt-iot-listener.js', import.meta.url));
let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

function runCli(args: string[], timeoutMs = 15_000): Promise<{ code: number | null; err: string; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, err, out });
    });
  });
}

describe('broker credentials', () => {
  it('a refused password exits with code 3, one clear line, and the password appears nowhere', async () => {
    broker = await startAedes({ username: 'listener', password: 'right-secret' });
    const dir = tempDir();
    const creds = join(dir, 'creds.txt');
    writeFileSync(creds, 'listener,wrong-secret-xyz\n');
    chmodSync(creds, 0o600);
    const log = join(dir, 'l.log');
    const r = await runCli(['-b', '127.0.0.1', '--port', String(broker.port), '-c', creds, '-d', join(dir, 'db.sqlite3'), '-l', log, '--no-console']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/refused the credentials/);
    const everything = r.err + r.out + readFileSync(log, 'utf8');
    expect(everything).not.toContain('wrong-secret-xyz');
    expect(everything).not.toContain(Buffer.from('wrong-secret-xyz').toString('base64'));
  });
});
