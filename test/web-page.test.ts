// The web page in a real browser (Debian's Chromium through playwright-core) against a running
// listener: aedes, a real SQLite file with history, the status service serving page and API.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../bench/lib/chromium.js';
import { count, payload, publisher, query, waitFor } from './helpers/util.js';
import { startWebListener, type WebListener } from './helpers/web.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_PLACE = '<script>window.__pwned=1</script>';
export const ARTIFACTS = join(import.meta.dirname, 'artifacts');

interface ApiSensor {
  name: string;
  location: string | null;
  status: string;
  last: { temperatureF: number | null } | null;
}

interface Watched {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests: each one a defect. */
  problems: string[];
  requests: string[];
  dialogs: string[];
}

let web: WebListener;
let browser: Browser;

async function open(path: string, viewport = { width: 1200, height: 900 }, before?: (page: Page) => void): Promise<Watched> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const w: Watched = { page, problems: [], requests: [], dialogs: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') w.problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => w.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => w.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => w.requests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) w.problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  before?.(page);
  await page.goto(`${web.url}${path}`);
  return w;
}

/** Nothing went wrong and nothing left this listener's address. */
function expectClean(w: Watched): void {
  expect(w.problems).toEqual([]);
  expect(w.dialogs).toEqual([]);
  expect(w.requests.length).toBeGreaterThan(0);
  expect(w.requests.filter((u) => !u.startsWith(`${web.url}/`))).toEqual([]);
}

async function rowsShown(page: Page): Promise<Array<{ name: string; location: string; status: string; temp: string; low: boolean }>> {
  return page.$$eval('#sensor-rows tr', (trs) =>
    trs.map((tr) => ({
      name: tr.querySelector('.name')!.textContent!,
      location: tr.querySelector('.location')!.textContent!,
      status: tr.querySelector('.status-text')!.textContent!,
      temp: tr.querySelector('.temp')!.textContent!,
      low: !(tr.querySelector('.low-mark') as HTMLElement).hidden,
    })),
  );
}

async function apiSensors(): Promise<ApiSensor[]> {
  return (await (await fetch(`${web.url}/api/sensors`)).json()) as ApiSensor[];
}

/** Pixels of a series colour on the chart's canvas: the line was really drawn. */
function seriesPixels(page: Page, chart: string, rgb: [number, number, number]): Promise<number> {
  return page.$eval(
    `${chart} canvas`,
    (c, [r, g, b]) => {
      const canvas = c as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i]! - r!) < 40 && Math.abs(px[i + 1]! - g!) < 40 && Math.abs(px[i + 2]! - b!) < 40 && px[i + 3]! > 100) n++;
      }
      return n;
    },
    rgb,
  );
}

const BLUE: [number, number, number] = [31, 119, 180];
const RED: [number, number, number] = [214, 39, 40];

describe('web page in Chromium', () => {
  beforeAll(async () => {
    const now = Date.now();
    web = await startWebListener([
      { name: 'ECCTH01', location: 'Office', days: 2, endMs: now - 60_000, battPercent: 85 },
      { name: 'ECCTH02', location: 'Attic', days: 2, endMs: now - 2 * 3600_000, battPercent: 12, offsetF: 6 },
      { name: 'Year', location: 'Cellar', days: 365, endMs: now - 120_000, offsetF: -8 },
    ]);
    const pub = await publisher(web.broker.port);
    await pub.publishAsync('ECCTempHum', payload(HOSTILE, 70.2, `&field8=${HOSTILE_PLACE}`), { qos: 1 });
    await pub.endAsync();
    await waitFor(() => query(web.dbFile, 'SELECT 1 FROM ECCTempHum WHERE sensorName = ?', HOSTILE).length === 1, 10_000, 'hostile reading stored');
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  it('lists the sensors as /api/sensors does, charts the selected ones, with no console error and no request elsewhere', async () => {
    const w = await open('/#range=24h&sensor=ECCTH01&sensor=ECCTH02');
    const api = await apiSensors();
    expect(api.map((s) => s.name)).toEqual([HOSTILE, 'ECCTH01', 'ECCTH02', 'Year']);
    await w.page.waitForFunction((n) => document.querySelectorAll('#sensor-rows tr').length === n, api.length);
    const rows = await rowsShown(w.page);
    expect(rows).toEqual(
      api.map((s) => ({
        name: s.name,
        location: s.location ?? '',
        status: s.status,
        temp: `${s.last!.temperatureF!.toFixed(1)} °F`,
        low: s.name === 'ECCTH02',
      })),
    );
    expect(rows.find((r) => r.name === 'ECCTH02')!.status).toBe('stale');
    expect(rows.find((r) => r.name === 'ECCTH01')!.status).toBe('online');

    // Both selected sensors are overlaid on the temperature and humidity charts.
    await w.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-humidity')?.dataset['drawn'] ?? 0) > 0);
    for (const chart of ['#chart-temperature', '#chart-humidity']) {
      expect(await w.page.$eval(chart, (e) => (e as HTMLElement).dataset['sensors'])).toBe('2');
      expect(Number(await w.page.$eval(chart, (e) => (e as HTMLElement).dataset['points']))).toBeGreaterThan(100);
      const legend = await w.page.$$eval(`${chart} .u-legend .u-label`, (ls) => ls.map((l) => l.textContent));
      expect(legend).toEqual(expect.arrayContaining(['ECCTH01', 'ECCTH02']));
      expect(await seriesPixels(w.page, chart, BLUE)).toBeGreaterThan(50);
      expect(await seriesPixels(w.page, chart, RED)).toBeGreaterThan(50);
    }
    await w.page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expectClean(w);
  });

  it('shows a reading published over MQTT within 10 s, without a reload', async () => {
    const w = await open('/#range=6h&sensor=ECCTH01');
    await w.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['drawn'] ?? 0) > 0);
    const pointsBefore = Number(await w.page.$eval('#chart-temperature', (e) => (e as HTMLElement).dataset['points']));
    await w.page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const stored = count(web.dbFile, 'ECCTempHum');
    const pub = await publisher(web.broker.port);
    await pub.publishAsync('ECCTempHum', payload('ECCTH01', 88.8), { qos: 1 });
    await pub.endAsync();
    await waitFor(() => count(web.dbFile, 'ECCTempHum') === stored + 1, 10_000, 'reading stored');
    const t0 = Date.now();
    const row = w.page.locator('#sensor-rows tr[data-sensor="ECCTH01"] .temp');
    await w.page.waitForFunction(() => document.querySelector('#sensor-rows tr[data-sensor="ECCTH01"] .temp')?.textContent === '88.8 °F', undefined, { timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await row.textContent()).toBe('88.8 °F');
    await w.page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['points']) > n, pointsBefore, { timeout: 10_000 });
    expect(await w.page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expectClean(w);
  });

  it('°C toggle converts every temperature and is remembered after a reload', async () => {
    const w = await open('/#sensor=ECCTH01');
    const api = (await apiSensors()).find((s) => s.name === 'ECCTH01')!;
    const f = api.last!.temperatureF!;
    const cell = '#sensor-rows tr[data-sensor="ECCTH01"] .temp';
    await w.page.waitForFunction((s) => document.querySelector(s)?.textContent?.endsWith('°F'), cell);
    expect(await w.page.textContent(cell)).toBe(`${f.toFixed(1)} °F`);
    await w.page.click('#unit');
    expect(await w.page.textContent(cell)).toBe(`${(((f - 32) * 5) / 9).toFixed(1)} °C`);
    expect(await w.page.textContent('#chart-temperature .u-title')).toContain('°C');
    await w.page.reload();
    await w.page.waitForFunction((s) => (document.querySelector(s)?.textContent ?? '') !== '', cell);
    expect(await w.page.textContent(cell)).toBe(`${(((f - 32) * 5) / 9).toFixed(1)} °C`);
    expect(await w.page.textContent('#unit')).toBe('show °F');
    expectClean(w);
  });

  it('shows a hostile sensor name and location as text and runs no script', async () => {
    const w = await open('/');
    const row = `#sensor-rows tr[data-sensor="${HOSTILE.replace(/"/g, '\\"')}"]`;
    await w.page.waitForSelector(row);
    expect(await w.page.textContent(`${row} .name`)).toBe(HOSTILE);
    expect(await w.page.textContent(`${row} .location`)).toBe(HOSTILE_PLACE);
    expect(await w.page.$$('main img, main script')).toEqual([]);
    // It is the first sensor, so it is charted by default: its name is in the legends as text.
    await w.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['drawn'] ?? 0) > 0);
    expect(await w.page.$$eval('.u-legend .u-label', (ls) => ls.map((l) => l.textContent))).toContain(HOSTILE);
    expect(await w.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const res = await fetch(`${web.url}/`);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expectClean(w);
  });

  it('is usable from the keyboard and at phone width', async () => {
    const w = await open('/#range=24h&sensor=ECCTH01', { width: 375, height: 740 });
    await w.page.waitForSelector('#sensor-rows tr');
    await w.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['drawn'] ?? 0) > 0);
    // Nothing wider than the phone: the table scrolls inside its own box, the charts fit.
    expect(await w.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await w.page.$eval('#chart-temperature canvas', (c) => c.getBoundingClientRect().right)).toBeLessThanOrEqual(375);
    await w.page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });

    // Tab to the "7 d" range button and press it; tab to a sensor's checkbox and tick it.
    const focusOn = async (selector: string): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        await w.page.keyboard.press('Tab');
        if (await w.page.evaluate((s) => document.activeElement === document.querySelector(s), selector)) return;
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    const sevenDays = '#ranges button:nth-child(3)';
    await focusOn('#sensor-rows tr[data-sensor="ECCTH02"] input');
    await w.page.keyboard.press('Space');
    await w.page.waitForFunction(() => document.querySelector<HTMLElement>('#chart-temperature')?.dataset['sensors'] === '2');
    await focusOn(sevenDays);
    await w.page.keyboard.press('Enter');
    expect(await w.page.getAttribute(sevenDays, 'aria-pressed')).toBe('true');
    await w.page.waitForFunction(() => location.hash.includes('range=7d') && location.hash.includes('ECCTH02'));
    expectClean(w);
  });

  it('shows a custom range, and an empty chart with a hint when no sensor is ticked', async () => {
    const w = await open('/#range=24h&sensor=ECCTH01');
    await w.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['drawn'] ?? 0) > 0);
    const full = Number(await w.page.$eval('#chart-temperature', (e) => (e as HTMLElement).dataset['points']));
    // The custom range: the last 6 h of the seeded day, typed into the two date fields.
    const [from, to] = await w.page.evaluate(() => {
      const local = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      return [local(Date.now() - 6 * 3600_000), local(Date.now())];
    });
    await w.page.fill('#range-from', from!);
    await w.page.fill('#range-to', to!);
    await w.page.click('#custom-range button[type=submit]');
    await w.page.waitForFunction(() => location.hash.includes('from=') && location.hash.includes('to='));
    await w.page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['points']) < n / 2, full);
    expect(Number(await w.page.$eval('#chart-temperature', (e) => (e as HTMLElement).dataset['points']))).toBeGreaterThan(20);
    expect(await w.page.$$eval('#ranges button[aria-pressed="true"]', (bs) => bs.length)).toBe(0);
    await w.page.uncheck('#sensor-rows tr[data-sensor="ECCTH01"] input');
    await w.page.waitForFunction(() => document.querySelector<HTMLElement>('#chart-temperature')?.dataset['sensors'] === '0');
    expect(await w.page.textContent('#message')).toBe('Tick a sensor to chart it.');
    expectClean(w);
  });

  it('charts a year of one sensor (52 560 readings) from at most 200 KB of readings', async () => {
    const rows = query<{ n: number }>(web.dbFile, "SELECT COUNT(*) AS n FROM ECCTempHum WHERE sensorName = 'Year'")[0]!.n;
    expect(rows).toBeGreaterThan(52_000);
    const sizes: Array<Promise<number>> = [];
    const w = await open('/#range=1y&sensor=Year', undefined, (page) =>
      page.on('response', (r) => {
        if (r.url().includes('/readings')) sizes.push(r.body().then((b) => b.length));
      }),
    );
    await w.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-temperature')?.dataset['points'] ?? 0) > 0);
    const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
    expect(sizes.length).toBe(1);
    expect(bytes).toBeLessThanOrEqual(200 * 1024);
    // Downsampled, yet the chart spans the year: a few hundred buckets, first and last months.
    const points = Number(await w.page.$eval('#chart-temperature', (e) => (e as HTMLElement).dataset['points']));
    expect(points).toBeGreaterThan(150);
    expect(points).toBeLessThan(1000);
    expect(await seriesPixels(w.page, '#chart-temperature', BLUE)).toBeGreaterThan(100);
    process.stdout.write(`1-year chart: ${rows} readings -> ${points} buckets, ${bytes} bytes of readings\n`);
    expectClean(w);
  });

  it('downloads the shown range as CSV: every reading of the selected sensor, names as text', async () => {
    const w = await open(`/#range=24h&sensor=ECCTH01&sensor=${encodeURIComponent(HOSTILE)}`);
    await w.page.waitForFunction(() => document.querySelector<HTMLElement>('#chart-temperature')?.dataset['sensors'] === '2');
    const [download] = await Promise.all([w.page.waitForEvent('download'), w.page.click('#csv')]);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('sensorName,timeUTC,temperatureF,temperatureC,relHumidityPercent,dewPointF,battVoltage,battPercent,apRSSI');
    const since = new Date(Date.now() - 24 * 3600_000 - 60_000).toISOString().replace('T', ' ').slice(0, 19);
    const inDb = query<{ n: number }>(web.dbFile, "SELECT COUNT(*) AS n FROM ECCTempHum WHERE sensorName = 'ECCTH01' AND recordWrittenUTC >= ?", since)[0]!.n;
    const th01 = lines.filter((l) => l.startsWith('ECCTH01,'));
    expect(Math.abs(th01.length - inDb)).toBeLessThanOrEqual(1); // the range's start moved by the seconds the test took
    expect(lines.filter((l) => l.startsWith(`${HOSTILE},`))).toHaveLength(1);
    expectClean(w);
  });
});
