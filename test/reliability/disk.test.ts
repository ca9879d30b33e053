// Scenario 5: the database cannot take writes (full disk, or locked by another process). Nothing
// may be acknowledged that is not committed; storing resumes by itself; nothing committed is damaged.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ListenerApp } from '../../src/app.js';
import { startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { publish } from '../helpers/processes.js';
import { count, query, sleep, tempDir, testConfig, testLogger, waitFor } from '../helpers/util.js';
import { counts, logText, report, startedListener, stopListener } from './common.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function mosquitto(): Promise<TestBroker> {
  const b = await startMosquitto({ persistence: false });
  cleanups.push(() => b.stop());
  return b;
}

describe('database cannot take writes', () => {
  it('full disk (SQLITE_FULL): nothing acknowledged is lost, storing resumes without a restart', async () => {
    const broker = await mosquitto();
    const dir = tempDir('rel-full-');
    const logger = testLogger(dir);
    const app = new ListenerApp(testConfig(dir, broker.port, { clientId: 'full-listener' }), { logger });
    cleanups.push(async () => {
      await app.stop();
      await logger.close();
    });
    await app.start();
    await waitFor(() => app.mqtt!.connected, 10_000, 'connected');
    await sleep(200);
    const db = app.readingStore!.database;
    const first = publish(broker.port, { count: 200, qos: 1, prefix: 'A' });
    await first.done;
    await waitFor(() => count(app.config.dbFile, 'ECCTempHum') === 200, 10_000, 'first readings');
    // The disk is "full": the database may not grow by a single page.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const second = publish(broker.port, { count: 2000, start: 200, qos: 1, prefix: 'A' });
    await second.done; // the broker has them; we must not have acknowledged them yet
    await waitFor(() => (app.readingWriter?.totals.failedCommits ?? 0) > 0, 10_000, 'a failed commit');
    const storedWhileFull = count(app.config.dbFile, 'ECCTempHum');
    await sleep(500);
    db.pragma('max_page_count = 1073741823');
    await waitFor(() => count(app.config.dbFile, 'ECCTempHum') === 2200, 30_000, 'all readings after space came back');
    const c = counts(app.config.dbFile, 2200);
    report('full disk', { ...c, storedWhileFull, failedCommits: app.readingWriter!.totals.failedCommits });
    expect(c.duplicates).toBe(0);
    expect(readFileSync(join(dir, 'test.log'), 'utf8')).toMatch(/cannot commit .*nothing acknowledged.*(full|SQLITE_FULL)/i);
    expect(readFileSync(join(dir, 'test.log'), 'utf8')).toMatch(/database writable again/);
    // No mail credentials in this test: the alert goes to the log, once for the whole streak.
    expect(readFileSync(join(dir, 'test.log'), 'utf8').match(/ALERT .*cannot write the database/g)).toHaveLength(1);
    expect(query(app.config.dbFile, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });

  it('database locked by another process: readings wait (not acknowledged) and are stored when it lets go', async () => {
    const broker = await mosquitto();
    const dir = tempDir('rel-lock-');
    const listener = await startedListener(dir, broker.port, ['--client-id', 'lock-listener']);
    cleanups.push(() => stopListener(listener));
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    await publish(broker.port, { count: 100, qos: 1, prefix: 'K' }).done;
    await waitFor(() => count(dbFile, 'ECCTempHum') === 100, 10_000, 'first readings');
    // Another program holds a write transaction for 3 seconds.
    const holder = spawn(
      process.execPath,
      ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.exec('BEGIN IMMEDIATE');console.log('locked');setTimeout(()=>{d.exec('COMMIT');d.close();},3000)`, dbFile],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    await publish(broker.port, { count: 500, start: 100, qos: 1, prefix: 'K' }).done;
    await sleep(1000);
    const storedWhileLocked = count(dbFile, 'ECCTempHum');
    expect(storedWhileLocked).toBe(100);
    await waitFor(() => /cannot commit .* nothing acknowledged/.test(logText(dir)), 5000, 'error logged');
    await new Promise<void>((resolve) => holder.on('exit', () => resolve()));
    await waitFor(() => count(dbFile, 'ECCTempHum') === 600, 30_000, 'all readings after the lock');
    const c = counts(dbFile, 600);
    report('locked database', { ...c, storedWhileLocked });
    expect(c.duplicates).toBe(0);
    expect(query(dbFile, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(listener.child.exitCode).toBeNull();
  });
});
