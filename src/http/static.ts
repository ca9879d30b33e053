// The web page's files (GET /): index.html, its CSS, our compiled modules (dist/web) and uPlot
// from node_modules, served from a map built at start-up. A request path is only ever a key in
// that map, never part of a file path, so no request can reach another file. Every answer
// carries a strict Content-Security-Policy: scripts, styles and requests only from this origin,
// no inline script, no frames.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The CSP of the page (uPlot styles through the CSSOM, which 'self' styles allow). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

// src/http (tests) and dist/src/http (built) sit at different depths below the package root.
const PACKAGE_ROOT = [new URL('../../', import.meta.url), new URL('../../../', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'web', 'index.html')))!;

interface Loaded {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
}

/** The page's files by URL path; each read on first use and again when it changes on disk. */
export class WebPage {
  private readonly files = new Map<string, string>();
  private readonly cache = new Map<string, Loaded>();
  private readonly builtDir: string;

  constructor(root: string = PACKAGE_ROOT) {
    const uplotDir = join(createRequire(join(root, 'package.json')).resolve('uplot'), '..');
    this.builtDir = join(root, 'dist', 'web');
    this.files.set('/', join(root, 'web', 'index.html'));
    this.files.set('/index.html', join(root, 'web', 'index.html'));
    this.files.set('/style.css', join(root, 'web', 'style.css'));
    this.files.set('/favicon.svg', join(root, 'web', 'favicon.svg'));
    this.files.set('/vendor/uPlot.min.css', join(uplotDir, 'uPlot.min.css'));
    this.files.set('/js/vendor/uPlot.esm.js', join(uplotDir, 'uPlot.esm.js'));
    // Our modules: whatever `npm run build` compiled (web/src/*.ts), listed once, here.
    if (existsSync(this.builtDir)) {
      for (const name of readdirSync(this.builtDir)) {
        if (/^[a-z0-9-]+\.js$/.test(name)) this.files.set(`/js/${name}`, join(this.builtDir, name));
      }
    }
  }

  /** The URL paths served (for tests and the log). */
  get paths(): string[] {
    return [...this.files.keys()];
  }

  /**
   * Answers the request if its path is one of the page's files and returns true; returns false
   * for every other path (the API's routes, the 404).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = new URL(`http://page${req.url ?? '/'}`).pathname;
    const file = this.files.get(path);
    if (file === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `${req.method} is not allowed on ${path}; use GET` }));
      return true;
    }
    if (!this.files.has('/js/main.js')) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end(`The web page is not built (no ${join(this.builtDir, 'main.js')}): run npm run build.\n`);
      return true;
    }
    let f: Loaded;
    try {
      f = this.load(file);
    } catch (err) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `${path} is missing on the server (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}); run npm run build` }));
      return true;
    }
    const gzip = f.gzip !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const etag = gzip ? `"${f.etag}-gz"` : `"${f.etag}"`;
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      // Always revalidated (a 304 is a few bytes), so an upgrade shows at the next load.
      'cache-control': 'no-cache',
      etag,
      vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const body = gzip ? f.gzip! : f.body;
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private load(file: string): Loaded {
    const st = statSync(file);
    const hit = this.cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = readFileSync(file);
    const loaded: Loaded = {
      mtimeMs: st.mtimeMs,
      size: st.size,
      body,
      gzip: body.length > 1024 ? gzipSync(body) : undefined,
      etag: createHash('sha256').update(body).digest('base64url').slice(0, 22),
    };
    this.cache.set(file, loaded);
    return loaded;
  }
}
