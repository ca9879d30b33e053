// The web page's files over real HTTP from a running listener: only the allow-listed files,
// with their content types, revalidation (ETag/304), gzip, the CSP, and the API's login.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebPage } from '../src/http/static.js';
import { startWebListener, type WebListener } from './helpers/web.js';

const UPLOT_ESM = join(createRequire(import.meta.url).resolve('uplot'), '..', 'uPlot.esm.js');
const BUILT = join(import.meta.dirname, '..', 'dist', 'web');

/** A request with the path exactly as written (fetch would normalise `..` away). */
function raw(url: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web page files', () => {
  let web: WebListener;
  beforeAll(async () => {
    web = await startWebListener([{ name: 'ECCTH01', days: 1 }]);
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('serves the page, its modules, its CSS and uPlot with their types, a strict CSP and no-sniff', async () => {
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/js/main.js', 'text/javascript; charset=utf-8'],
      ['/js/vendor/uPlot.esm.js', 'text/javascript; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/vendor/uPlot.min.css', 'text/css; charset=utf-8'],
      ['/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await raw(web.url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe(type);
      expect(res.headers['content-security-policy'], path).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const page = (await raw(web.url, '/')).body.toString();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(page).not.toMatch(/https?:\/\//); // nothing from elsewhere (no CDN)
    expect((await raw(web.url, '/js/vendor/uPlot.esm.js')).body.equals(readFileSync(UPLOT_ESM))).toBe(true);
  });

  it('serves every module the compiled page imports (the allow-list misses none)', async () => {
    const seen = new Set<string>();
    const queue = ['/js/main.js'];
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await raw(web.url, path);
      expect(res.status, path).toBe(200);
      for (const m of res.body.toString().matchAll(/\bfrom\s*['"](\.[^'"]+)['"]/g)) queue.push(new URL(m[1]!, `http://x${path}`).pathname);
    }
    expect(seen).toContain('/js/vendor/uPlot.esm.js');
    expect(seen.size).toBeGreaterThan(5);
    // index.html preloads exactly these, so the browser fetches them at once, not import by import.
    const page = (await raw(web.url, '/')).body.toString();
    const preloaded = [...page.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
    expect(preloaded.sort()).toEqual([...seen].sort());
  });

  it('revalidates with ETag (304), gzips for browsers that take it, answers HEAD, refuses POST', async () => {
    const first = await raw(web.url, '/js/vendor/uPlot.esm.js', { headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(first.body.length).toBeLessThan(readFileSync(UPLOT_ESM).length / 2);
    const again = await raw(web.url, '/js/vendor/uPlot.esm.js', { headers: { 'accept-encoding': 'gzip', 'if-none-match': String(first.headers['etag']) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const plain = await raw(web.url, '/js/vendor/uPlot.esm.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['etag']).not.toBe(first.headers['etag']);
    const head = await raw(web.url, '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(500);
    expect(head.body.length).toBe(0);
    const post = await raw(web.url, '/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it('serves nothing outside its list, whatever the path says', async () => {
    const secretish = readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8').slice(0, 40);
    for (const path of [
      '/js/../../package.json',
      '/js/%2e%2e/%2e%2e/package.json',
      '/js/..%2f..%2fpackage.json',
      '/js/vendor/..%2F..%2F..%2Fsrc%2Fapp.ts',
      '/..%5c..%5cpackage.json',
      '/package.json',
      '/web/index.html',
      '/dist/web/main.js',
      '/js/main.ts',
      '/js/vendor/uPlot.cjs.js',
      '/node_modules/uplot/package.json',
      '/js/main.js%00.png',
      `/js/${'../'.repeat(20)}etc/passwd`,
    ]) {
      const res = await raw(web.url, path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.body.toString(), path).not.toContain(secretish);
      expect(res.body.toString(), path).not.toContain('root:');
    }
    // The map holds exactly the page's files.
    expect(new WebPage().paths.sort()).toEqual(
      ['/', '/favicon.svg', '/index.html', '/js/vendor/uPlot.esm.js', '/style.css', '/vendor/uPlot.min.css', ...readdirJs()].sort(),
    );
  });
});

describe('readings for charts', () => {
  let web: WebListener;
  beforeAll(async () => {
    web = await startWebListener([{ name: 'ECCTH01', days: 3 }]);
  });
  afterAll(async () => {
    await web?.stop();
  });

  const get = async (query: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${web.url}/api/sensors/ECCTH01/readings?${query}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('fields= narrows the buckets to the charted columns, with the same values', async () => {
    const span = `from=${new Date(Date.now() - 3 * 86_400_000).toISOString()}&to=${new Date().toISOString()}&maxPoints=50`;
    const all = await get(span);
    const two = await get(`${span}&fields=relHumidityPercent,temperatureF`);
    expect(two.status).toBe(200);
    const a = all.body['buckets'] as Array<Record<string, unknown>>;
    const b = two.body['buckets'] as Array<Record<string, unknown>>;
    expect(b.length).toBe(a.length);
    expect(b.length).toBeGreaterThan(40);
    expect(Object.keys(b[0]!).sort()).toEqual(['count', 'relHumidityPercent', 'startUTC', 'temperatureC', 'temperatureF']);
    expect(b).toEqual(a.map((x) => ({ startUTC: x['startUTC'], count: x['count'], temperatureF: x['temperatureF'], temperatureC: x['temperatureC'], relHumidityPercent: x['relHumidityPercent'] })));
    expect(JSON.stringify(two.body).length).toBeLessThan(JSON.stringify(all.body).length * 0.6);
  });

  it('a bad fields= is a 400 naming the parameter', async () => {
    for (const q of ['maxPoints=10&fields=temperatureF,bogus', 'maxPoints=10&fields=', 'fields=temperatureF']) {
      const r = await get(q);
      expect(r.status, q).toBe(400);
      expect(r.body['parameter'], q).toBe('fields');
    }
  });
});

describe('web page behind the API login', () => {
  it('asks for the same HTTP Basic login as the API, for the page and each of its files', async () => {
    const web = await startWebListener([], { user: 'ops', password: 'pa:ss w0rd' });
    try {
      for (const path of ['/', '/js/main.js', '/vendor/uPlot.min.css', '/api/sensors']) {
        const res = await raw(web.url, path);
        expect(res.status, path).toBe(401);
        expect(String(res.headers['www-authenticate'])).toMatch(/^Basic/);
      }
      const login = { authorization: `Basic ${Buffer.from('ops:pa:ss w0rd').toString('base64')}` };
      for (const path of ['/', '/js/main.js', '/vendor/uPlot.min.css']) expect((await raw(web.url, path, { headers: login })).status, path).toBe(200);
      expect((await raw(web.url, '/', { headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` } })).status).toBe(401);
    } finally {
      await web.stop();
    }
  });
});

function readdirJs(): string[] {
  return readdirSync(BUILT).filter((f) => f.endsWith('.js')).map((f) => `/js/${f}`);
}
