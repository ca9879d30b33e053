// Real HTTP requests to a running listener's status service (Node's fetch over 127.0.0.1).
import type { HttpConfig } from '../../src/http/http-options.js';

export interface JsonAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export async function getJson<T = unknown>(base: string, path: string, auth?: { user: string; password: string }): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = {};
  if (auth) headers['Authorization'] = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, body: body as T, headers: res.headers, text };
}

/** --http on a free port of 127.0.0.1 (port 0: the service reports the one it got). */
export function localHttp(extra: Partial<HttpConfig> = {}): HttpConfig {
  return { host: '127.0.0.1', port: 0, staleMs: 30 * 60_000, ...extra };
}

/** Sensor names a user may give: spaces, unicode, '/', '..', quotes, SQL. */
export const AWKWARD_NAMES = ['living room', 'Küche-°', 'shed/left', '..', `o'brien "x"`, "x'; DROP TABLE ECCTempHum; --"];

/** A name as one path segment, dots too (`..` → `%2E%2E`), the way curl sends it. */
export function pathSegment(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

/** A GET with the path sent exactly as given (node:http does not normalise `..` or `%2E%2E`). */
export async function getRaw<T = unknown>(base: string, path: string, headers: Record<string, string> = {}): Promise<JsonAnswer<T>> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(base + '/', { path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        let body: unknown = text;
        if ((res.headers['content-type'] ?? '').includes('json')) body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, body: body as T, headers: h, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
