// The small routing table of the status service: a route is a method, a path pattern with
// `:param` segments, and a handler that only reads. Route modules (api, metrics, health, and those
// of other features: alerts, the web page) are plain arrays of routes handed to the server.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Decoded `:param` segments (a name with '/' arrives as %2F and is decoded here). */
  params: Readonly<Record<string, string>>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** e.g. `/api/sensors/:name/readings` */
  path: string;
  handle(ctx: RequestContext): void | Promise<void>;
}

/** Answers a request no route matched (e.g. static files of the web page); true = handled. */
export type Fallback = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** An error a client caused: answered as JSON with its status (400 names the bad parameter). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function badParameter(name: string, why: string): HttpError {
  return new HttpError(400, `bad parameter ${name}: ${why}`, { parameter: name });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

interface Compiled {
  route: Route;
  segments: string[];
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

export class Router {
  private readonly table: Compiled[] = [];

  add(routes: readonly Route[]): void {
    for (const route of routes) this.table.push({ route, segments: route.path.split('/').slice(1) });
  }

  /** The route for a raw (still percent-encoded) path; `allowed` when only the method differs. */
  match(method: string, rawPath: string): Match {
    const parts = rawPath.split('/').slice(1);
    const allowed: string[] = [];
    for (const c of this.table) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if (c.route.method === method || (method === 'HEAD' && c.route.method === 'GET')) return { route: c.route, params };
      allowed.push(c.route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) {
      if (parts[i] === '') return undefined;
      let value: string;
      try {
        value = decodeURIComponent(parts[i]!);
      } catch {
        throw badParameter(p.slice(1), 'not valid percent-encoded UTF-8');
      }
      params[p.slice(1)] = value;
    } else if (p !== parts[i]) return undefined;
  }
  return params;
}
