// Real brokers for tests: aedes in-process on a free port, and Debian's mosquitto as a child
// process (when installed) with its own config, persistence folder and port.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMosquitto, freePort, waitForPort } from '../../bench/lib/mosquitto.js';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.js';

export { freePort, waitForPort };

export interface TestBroker {
  readonly name: string;
  readonly port: number;
  /** Stops the broker (its sessions survive only if it persists them). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

export async function startAedes(options: { username?: string; password?: string; port?: number } = {}): Promise<TestBroker> {
  const port = options.port ?? (await freePort());
  let broker = new EmbeddedBroker({ ...options, port });
  await broker.start();
  return {
    name: 'aedes',
    port,
    stop: () => broker.stop(),
    restart: async () => {
      await broker.stop();
      broker = new EmbeddedBroker({ ...options, port });
      await broker.start();
    },
  };
}

export interface MosquittoOptions {
  persistence?: boolean;
  maxQueued?: number;
  extraConfig?: string;
  /** A fixed port (e.g. one a listener is already trying); default: a free one. */
  port?: number;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<TestBroker & { process(): ChildProcess | undefined }> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed');
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'mosq-'));
  // Started as root, mosquitto drops to its own user: it must be able to write its persistence file.
  chmodSync(dir, 0o777);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `persistence ${options.persistence ? 'true' : 'false'}`,
      `persistence_location ${dir}/`,
      `max_queued_messages ${options.maxQueued ?? 100000}`,
      'log_dest none',
      options.extraConfig ?? '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    await waitForPort(port, 10_000);
  };
  await launch();
  return {
    name: 'mosquitto',
    port,
    process: () => child,
    stop: async () => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    restart: async function (this: TestBroker) {
      await this.stop();
      await launch();
    },
  };
}

/** The brokers the integration tests run against: aedes always, mosquitto when installed. */
export function brokerKinds(): Array<'aedes' | 'mosquitto'> {
  const want = process.env['MQTT_TEST_BROKER'];
  if (want === 'aedes') return ['aedes'];
  if (want === 'mosquitto') return ['mosquitto'];
  return findMosquitto() ? ['aedes', 'mosquitto'] : ['aedes'];
}

export function startBroker(kind: 'aedes' | 'mosquitto', options: MosquittoOptions = {}): Promise<TestBroker> {
  return kind === 'aedes' ? startAedes() : startMosquitto(options);
}
