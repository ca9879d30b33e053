// Child processes for reliability tests: the real listener CLI and the publisher fixture,
// plus /proc readings (RSS, open file descriptors) of a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/mqtt-iot-listener.js', import.meta.url));
const PUBLISHER = fileURLToPath(new URL('../fixtures/publisher.mjs', import.meta.url));

export interface ListenerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** The MQTT password every reliability listener runs with; it must never show up in any output. */
export const SECRET = 'Sup3r-Secret-Pw!42';

/** Fails if the secret appears in the text, plain or base64. */
export function findSecret(text: string): string | undefined {
  for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), encodeURIComponent(SECRET)]) if (text.includes(form)) return form;
  return undefined;
}

export function spawnListener(dir: string, port: number, args: string[] = []): ListenerProcess {
  const creds = join(dir, 'creds.txt');
  if (!existsSync(creds)) {
    writeFileSync(creds, `reliability,${SECRET}\n`);
    chmodSync(creds, 0o600);
  }
  const child = spawn(
    process.execPath,
    // As every launch path documents it (npm start, deploy/): no node flags.
    [BIN, '-b', '127.0.0.1', '--port', String(port), '-d', join(dir, 'ECCTempHum.sqlite3'), '-l', join(dir, 'ECCMQTTIoT.log'),
      '-c', join(dir, 'creds.txt'), '-m', join(dir, 'gmail.txt'), '-n', join(dir, 'notice.json'), '--no-console', '--log-level', 'info', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited, kill: (s) => child.kill(s) };
}

export interface PublishResult {
  published: number;
  acked: number;
}

export function publish(port: number, opts: { count: number; start?: number; qos?: number; prefix?: string; sensors?: number; window?: number; topic?: string; username?: string; password?: string; clientId?: string; clean?: boolean }): {
  child: ChildProcess;
  done: Promise<PublishResult>;
} {
  const args = [PUBLISHER, '--port', String(port), '--count', String(opts.count)];
  for (const [k, v] of Object.entries(opts)) if (k !== 'count' && v !== undefined) args.push(`--${k}`, String(v));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<PublishResult>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as PublishResult) : reject(new Error(`publisher exited ${code}: ${err}`)))),
  );
  return { child, done };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
