// The web page's bench scenario: N sensors with a year of readings each (10-minute intervals),
// the real CLI with its embedded broker and --http (as `npm start` runs it), and Debian's
// Chromium opening the page cold (fresh profile each time). "Usable" is the later of two marks
// the page sets itself: the sensor list shown and the first chart drawn, counted from the
// navigation's start, so the browser's own start-up is not counted.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from './lib/chromium.js';
import { seedHistory } from './lib/history.js';
import { LAUNCHER_NODE_FLAGS, REPO_ROOT } from './lib/listener-process.js';
import { freePort } from './lib/mosquitto.js';
import { sensorName } from './lib/payload.js';

export interface PageLoadOptions {
  sensors: number;
  days: number;
  /** Cold page loads per view. */
  loads: number;
}

export interface PageLoadResult {
  readings: number;
  seedSeconds: number;
  /** Per load, ms from navigation to list + chart: the default view (24 h) and 1 y of one sensor. */
  usableMs24h: number[];
  usableMs1y: number[];
  /** Per 1 y load: ms the API took (request sent → response received) for the list and the chart. */
  apiMs1y: number[];
  /** Bytes of the 1 y chart's readings response, and of the whole 1 y page load (as sent). */
  readingsBytes1y: number;
  pageBytes1y: number;
}

/** The database is seeded once per folder and size: the seeding is not what is measured. */
const seeded = new Map<string, { dir: string; readings: number; seconds: number }>();

function seededDatabase(sensors: number, days: number): { dir: string; readings: number; seconds: number } {
  const key = `${sensors}x${days}`;
  const hit = seeded.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'bench-page-'));
  const t0 = Date.now();
  const list = Array.from({ length: sensors }, (_, i) => ({ name: sensorName(i), location: `room ${i + 1}`, days, offsetF: (i % 7) - 3 }));
  const readings = seedHistory(join(dir, 'ECCTempHum.sqlite3'), list);
  const entry = { dir, readings, seconds: (Date.now() - t0) / 1000 };
  seeded.set(key, entry);
  return entry;
}

export function removeSeededDatabases(): void {
  for (const { dir } of seeded.values()) rmSync(dir, { recursive: true, force: true });
  seeded.clear();
}

export async function pageLoad(o: PageLoadOptions): Promise<PageLoadResult> {
  const db = seededDatabase(o.sensors, o.days);
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...LAUNCHER_NODE_FLAGS,
      join(REPO_ROOT, 'bin', 'mqtt-iot-listener.js'),
      '--embedded-broker',
      '--port', String(mqttPort),
      '--http', `127.0.0.1:${httpPort}`,
      '-d', join(db.dir, 'ECCTempHum.sqlite3'),
      '-l', join(db.dir, 'ECCMQTTIoT.log'),
      '--no-console',
    ],
    { cwd: db.dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${httpPort}`;
  const browser = await launchChromium().catch(async (err: unknown) => {
    child.kill('SIGTERM');
    throw err;
  });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`listener exited (${child.exitCode}): ${stderr.trim()}`);
      if (await fetch(`${url}/api/sensors`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error('the listener did not answer HTTP within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const result: PageLoadResult = { readings: db.readings, seedSeconds: db.seconds, usableMs24h: [], usableMs1y: [], apiMs1y: [], readingsBytes1y: 0, pageBytes1y: 0 };
    const views = [
      { hash: '', into: result.usableMs24h },
      { hash: `#range=1y&sensor=${sensorName(0)}`, into: result.usableMs1y },
    ];
    for (let i = 0; i < o.loads; i++) {
      for (const view of views) {
        const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
        const page = await context.newPage();
        const sizes: Array<Promise<{ readings: boolean; bytes: number }>> = [];
        page.on('requestfinished', (r) => sizes.push(r.sizes().then((s) => ({ readings: r.url().includes('/readings'), bytes: s.responseBodySize + s.responseHeadersSize }))));
        await page.goto(`${url}/${view.hash}`);
        await page.waitForFunction(() => performance.getEntriesByName('chart-drawn').length > 0 && performance.getEntriesByName('list-shown').length > 0, undefined, { timeout: 60_000 });
        view.into.push(await page.evaluate(() => Math.max(...['list-shown', 'chart-drawn'].map((m) => performance.getEntriesByName(m)[0]!.startTime))));
        if (view.hash) {
          result.apiMs1y.push(
            await page.evaluate(() =>
              performance
                .getEntriesByType('resource')
                .filter((e) => e.name.includes('/api/sensors'))
                .map((e) => (e as PerformanceResourceTiming).responseEnd - (e as PerformanceResourceTiming).requestStart)
                .reduce((a, b) => a + b, 0),
            ),
          );
          const all = await Promise.all(sizes);
          result.readingsBytes1y = all.filter((s) => s.readings).reduce((a, s) => a + s.bytes, 0);
          result.pageBytes1y = all.reduce((a, s) => a + s.bytes, 0);
        }
        await context.close();
      }
    }
    return result;
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  }
}
