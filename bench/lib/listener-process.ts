// Our listener as users run it: the real CLI (bin/mqtt-iot-listener.js) in its own process,
// with a temporary database and log, against the bench's broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'mqtt-iot-listener.js');

/**
 * The node flags of the launcher's `#!` line, if any (none today: the launcher caps memory itself),
 * so the bench runs the listener exactly as it is started in production.
 */
export const LAUNCHER_NODE_FLAGS: readonly string[] = (() => {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!.*\bnode\b(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
})();

export interface ListenerOptions {
  port: number;
  dir: string;
  qos: 0 | 1 | 2;
  durable: boolean;
  clientId: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Extra listener flags, e.g. --http 0 --availability-topic tele/+/LWT --share-group bench. */
  args?: string[];
  /** The -d value when not the SQLite file in `dir`, e.g. postgres://… */
  db?: string;
  /** --log-level (default info; bench/debug-cost.ts compares debug). */
  logLevel?: 'info' | 'debug';
}

export class ListenerProcess {
  private child: ChildProcess | undefined;
  private stderr = '';
  readonly dbFile: string;
  readonly logFile: string;
  spawnedAt = 0;

  constructor(private readonly o: ListenerOptions) {
    this.dbFile = join(o.dir, 'ECCTempHum.sqlite3');
    this.logFile = join(o.dir, 'ECCMQTTIoT.log');
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('listener not running');
    return this.child.pid;
  }

  /** Spawns the CLI; resolves once the log says it has subscribed (bounded). */
  async start(timeoutMs = 20_000): Promise<void> {
    const o = this.o;
    const args = [
      ...LAUNCHER_NODE_FLAGS,
      ...(o.nodeArgs ?? []),
      BIN,
      '-b', '127.0.0.1',
      '--port', String(o.port),
      '-d', o.db ?? this.dbFile,
      '-l', this.logFile,
      '--log-level', o.logLevel ?? 'info',
      '--no-console',
      '--qos', String(o.qos),
      '--client-id', o.clientId,
      ...(o.durable ? ['--durable'] : []),
      ...(o.args ?? []),
    ];
    const subscribedBefore = this.subscribedCount();
    this.spawnedAt = Date.now();
    // cwd = the run's folder, so default credential files are looked up there (none: anonymous).
    const child = spawn(process.execPath, args, { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => {
      if (this.stderr.length < 10_000) this.stderr += d.toString();
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`listener exited with code ${child.exitCode}: ${this.stderr.trim()}`);
      if (this.subscribedCount() > subscribedBefore) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`listener did not subscribe within ${timeoutMs} ms: ${this.stderr.trim()}`);
  }

  private subscribedCount(): number {
    if (!existsSync(this.logFile)) return 0;
    return readFileSync(this.logFile, 'utf8').split('subscribed to ').length - 1;
  }

  /** SIGTERM (graceful: commit, acknowledge, disconnect), then SIGKILL past the deadline. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
    return new Promise((resolve) => {
      const force = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      c.once('exit', (code) => {
        clearTimeout(force);
        resolve(code);
      });
      c.kill('SIGTERM');
    });
  }

  /** From the listener's last "stopped:" log line: commits made and time spent in them. */
  commitStats(): { commits: number; commitMs: number } | undefined {
    if (!existsSync(this.logFile)) return undefined;
    const lines = readFileSync(this.logFile, 'utf8').split('\n').filter((l) => l.includes('stopped: '));
    const m = /in (\d+) commits \((\d+) ms\)/.exec(lines.at(-1) ?? '');
    return m ? { commits: Number(m[1]), commitMs: Number(m[2]) } : undefined;
  }

  get errors(): string {
    return this.stderr;
  }
}
