// Small test utilities: temp folders, bounded waiting, database reads, publishing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { ListenerApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { resolveConfig, type RawOptions } from '../../src/config.js';
import { createAppLogger, type AppLogger } from '../../src/logging/logger.js';

export function tempDir(prefix = 'mil-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Polls `check` every 25 ms until it returns true or the time is up (then throws). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function query<T = Record<string, unknown>>(dbFile: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function count(dbFile: string, table: string): number {
  try {
    return (query<{ n: number }>(dbFile, `SELECT COUNT(*) AS n FROM ${table}`)[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

export function testConfig(dir: string, port: number, raw: RawOptions = {}): Config {
  return resolveConfig(
    {
      dbFile: join(dir, 'ECCTempHum.sqlite3'),
      logFile: join(dir, 'ECCMQTTIoT.log'),
      credentialsFile: join(dir, 'no-credentials.txt'),
      gmailCredentialsFile: join(dir, 'no-gmail.txt'),
      lastNoticeFile: join(dir, 'last-notice.json'),
      broker: '127.0.0.1',
      port,
      console: false,
      logLevel: 'debug',
      clientId: `test-${Math.random().toString(36).slice(2, 10)}`,
      ...raw,
    },
    { explicit: new Set(), env: {} },
  );
}

export function testLogger(dir: string): AppLogger {
  return createAppLogger({ file: join(dir, 'test.log'), level: 'debug', console: false });
}

export async function publisher(port: number, clientId?: string): Promise<MqttClient> {
  return mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    clientId: clientId ?? `pub-${Math.random().toString(36).slice(2, 10)}`,
    reconnectPeriod: 200,
  });
}

export function payload(sensor: string, temperatureF: number, extra = ''): string {
  return `field1=47.10&field2=${temperatureF}&field3=39.17&field4=3.41&field5=93.53&field6=-67&field7=${sensor}${extra}`;
}

/**
 * A ListenerApp on the test config with a test logger, started and connected (SUBACK waited for);
 * its stop (and the logger's close) is pushed onto `cleanups`.
 */
export async function startedApp(
  dir: string,
  port: number,
  raw: RawOptions,
  cleanups: Array<() => Promise<unknown> | unknown>,
  /** Parts of the config that other modules resolve (e.g. `http`, `availabilityTopics`). */
  extra: Partial<Config> = {},
): Promise<ListenerApp> {
  const logger = testLogger(dir);
  const app = new ListenerApp(Object.assign(testConfig(dir, port, raw), extra), { logger, onFatal: () => undefined });
  await app.start();
  cleanups.push(async () => {
    await app.stop();
    await logger.close();
  });
  await waitFor(() => (app.mqtt?.stats.connects ?? 0) > 0 && app.mqtt!.connected, 10_000, 'listener connected');
  await sleep(100); // SUBACK
  return app;
}
