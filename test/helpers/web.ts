// A listener serving the web page: aedes on a free port, a real SQLite file (optionally seeded
// with history first), ListenerApp with the status service on a free loopback port.
import { join } from 'node:path';
import { seedHistory, type SeededSensor } from '../../bench/lib/history.js';
import { ListenerApp } from '../../src/app.js';
import { startAedes, type TestBroker } from './brokers.js';
import { sleep, tempDir, testConfig, testLogger, waitFor } from './util.js';

export interface WebListener {
  app: ListenerApp;
  broker: TestBroker;
  dir: string;
  dbFile: string;
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

export async function startWebListener(seed: readonly SeededSensor[] = [], auth?: { user: string; password: string }): Promise<WebListener> {
  const broker = await startAedes();
  const dir = tempDir('web-');
  const dbFile = join(dir, 'ECCTempHum.sqlite3');
  if (seed.length > 0) seedHistory(dbFile, seed);
  const logger = testLogger(dir);
  const config = testConfig(dir, broker.port);
  config.http = { host: '127.0.0.1', port: 0, staleMs: 30 * 60_000, ...(auth ? { auth } : {}) };
  const app = new ListenerApp(config, { logger, onFatal: () => undefined });
  await app.start();
  await waitFor(() => app.mqtt?.connected === true, 10_000, 'listener connected');
  await sleep(100); // SUBACK
  return {
    app,
    broker,
    dir,
    dbFile,
    url: app.httpService!.url,
    stop: async () => {
      await app.stop();
      await logger.close();
      await broker.stop();
    },
  };
}
