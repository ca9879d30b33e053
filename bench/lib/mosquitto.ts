// Debian's mosquitto, started per bench run on a free 127.0.0.1 port with its own config file.
// The finding of the binary and the port helpers are shared with the tests (test/helpers/brokers.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BrokerLimits {
  /** Per-client queue of QoS 1/2 messages beyond those in flight (mosquitto default 1000). */
  maxQueuedMessages: number;
  /** Outgoing QoS 1/2 messages in flight per client (mosquitto default 20). */
  maxInflightMessages: number;
}

/** mosquitto's own defaults: what a user gets from `apt install mosquitto`. */
export const MOSQUITTO_DEFAULTS: BrokerLimits = { maxQueuedMessages: 1000, maxInflightMessages: 20 };

/**
 * The bench's profile: queues big enough for the 200 000-message backlog, and 1000 messages in
 * flight so a listener that acknowledges after a group commit can have large batches outstanding.
 */
export const BENCH_LIMITS: BrokerLimits = { maxQueuedMessages: 1_000_000, maxInflightMessages: 1000 };

/** Debian's mosquitto binary, or undefined when it is not installed. */
export function findMosquitto(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

export function mosquittoPath(): string {
  const path = findMosquitto();
  if (!path) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  return path;
}

export function mosquittoVersion(): string {
  const r = spawnSync(mosquittoPath(), ['-h'], { encoding: 'utf8' });
  const m = /mosquitto version (\S+)/.exec(`${r.stdout}${r.stderr}`);
  return m?.[1] ?? 'unknown';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/** What a scenario runs against: mosquitto with these limits, or aedes. */
export type BrokerSpec = BrokerLimits | 'aedes';

export interface BenchBroker {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class Mosquitto implements BenchBroker {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  port = 0;

  constructor(private readonly limits: BrokerLimits) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.dir = mkdtempSync(join(tmpdir(), 'bench-mosq-'));
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${this.port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        `max_queued_messages ${this.limits.maxQueuedMessages}`,
        'max_queued_bytes 0',
        `max_inflight_messages ${this.limits.maxInflightMessages}`,
        'log_dest none',
        '',
      ].join('\n'),
    );
    this.child = spawn(mosquittoPath(), ['-c', conf], { stdio: 'ignore' });
    await waitForPort(this.port, 10_000);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => c.kill('SIGKILL'), 5000);
        c.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        c.kill('SIGTERM');
      });
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
