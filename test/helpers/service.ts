// The listener as a service manager runs it: the real launcher (bin/ → dist/) in its own
// process, in a working folder of its own, stopped and reloaded with real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './util.js';

export const BIN = fileURLToPath(new URL('../../bin/mqtt-iot-listener.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export interface Running {
  child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Exit code (null if killed by a signal) and when it happened. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function launch(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; command?: string } = { cwd: process.cwd() }): Running {
  // As every documented launch path (npm start, deploy/): no node flags.
  const [cmd, cmdArgs] = options.command ? [options.command, args] : [process.execPath, [BIN, ...args]];
  const child = spawn(cmd, cmdArgs, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '', ...options.env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, pid: child.pid!, stdout: () => out, stderr: () => err, exited };
}

export function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** Files of one listener in its own folder: database, log, lock. */
export function filesIn(dir: string): { db: string; log: string; lock: string } {
  const db = join(dir, 'ECCTempHum.sqlite3');
  return { db, log: join(dir, 'ECCMQTTIoT.log'), lock: `${db}.lock` };
}

/** Flags for a listener in `dir`; the default credentials/last-notice files resolve there too (cwd). */
export function listenerArgs(dir: string, extra: string[]): string[] {
  const f = filesIn(dir);
  return ['-d', f.db, '-l', f.log, '--no-console', '--log-level', 'debug', ...extra];
}

/** Starts a listener and waits until it has subscribed (or exited, which fails the wait). */
export async function startListener(dir: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const r = launch(listenerArgs(dir, extra), { cwd: dir, env });
  const log = filesIn(dir).log;
  // The log may hold an earlier run's lines: look only after this process's first line.
  const subscribed = (): boolean => {
    const text = readIfExists(log);
    const at = text.indexOf(`starting (pid ${r.pid})`);
    return at >= 0 && text.indexOf('subscribed to', at) > at;
  };
  await waitFor(() => subscribed() || r.child.exitCode !== null, 20_000, 'listener subscribed');
  if (r.child.exitCode !== null) throw new Error(`listener exited ${r.child.exitCode}: ${r.stderr()}`);
  return r;
}

/** Ends a child that a failed test left behind. */
export function kill(r: Running | undefined): void {
  if (r && r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
}
