// The HTTP status service (node:http): binds the address of --http, checks HTTP Basic auth when
// configured, routes GET requests through a small table (route modules: api, health, metrics, and
// those other features plug in: alerts, the web page's static files as a fallback), and answers
// every error as JSON. Handlers only read. A slow or huge request cannot hold the listener: headers
// and whole requests have deadlines, bodies are not read, connections are capped.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigError } from '../config.js';
import type { Logger } from '../logging/types.js';
import { AUTH_CHALLENGE, authorized } from './basic-auth.js';
import type { HttpAuth } from './http-options.js';
import { HttpError, Router, sendJson, type Fallback, type Route } from './routes.js';

export interface StatusServerOptions {
  host: string;
  port: number;
  auth?: HttpAuth;
  log: Logger;
  routes?: readonly Route[];
  fallbacks?: readonly Fallback[];
  /** Whole-request deadline, ms (default 30 s). */
  requestTimeoutMs?: number;
}

const MAX_CONNECTIONS = 256;

export class StatusServer {
  private server: Server | undefined;
  private readonly router = new Router();
  private readonly fallbacks: Fallback[] = [];
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  readonly stats = { requests: 0, errors: 0, unauthorized: 0 };

  constructor(private readonly o: StatusServerOptions) {
    if (o.routes) this.router.add(o.routes);
    if (o.fallbacks) this.fallbacks.push(...o.fallbacks);
  }

  /** More routes (another feature's module); may be called before or after start(). */
  addRoutes(routes: readonly Route[]): void {
    this.router.add(routes);
  }

  /** A handler for what no route matches (e.g. the web page's static files), tried in order. */
  addFallback(fallback: Fallback): void {
    this.fallbacks.push(fallback);
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return `http://${host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    server.requestTimeout = this.o.requestTimeoutMs ?? 30_000;
    server.headersTimeout = Math.min(server.requestTimeout, 10_000);
    server.keepAliveTimeout = 5_000;
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') reject(new ConfigError(`--http: port ${this.o.port} on ${this.o.host} is already in use; choose another port`));
        else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new ConfigError(`--http: cannot bind ${this.o.host} (not an address of this machine)`));
        else if (err.code === 'EACCES') reject(new ConfigError(`--http: not allowed to bind port ${this.o.port} (ports below 1024 need privileges)`));
        else reject(err);
      });
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    server.on('error', (err) => this.o.log.error(`http server: ${err.message}`));
    this.server = server;
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.o.port;
    this.o.log.info(`status service on ${this.url}${this.o.auth ? ' (HTTP Basic auth)' : ' (no auth)'}`);
  }

  /** Closes the listening socket and every open connection. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    try {
      if (this.o.auth && !authorized(req, this.o.auth)) {
        this.stats.unauthorized++;
        res.setHeader('WWW-Authenticate', AUTH_CHALLENGE);
        sendJson(res, 401, { error: 'authentication required (HTTP Basic)' });
        return;
      }
      const target = req.url ?? '/';
      if (!target.startsWith('/')) throw new HttpError(400, 'the request target must be a path starting with /');
      const url = new URL(`http://localhost${target}`);
      const rawPath = target.split('?')[0]!;
      const method = req.method ?? 'GET';
      const match = this.router.match(method, rawPath);
      if (match && 'route' in match) {
        await match.route.handle({ req, res, url, params: match.params });
        return;
      }
      for (const fallback of this.fallbacks) if (await fallback(req, res)) return;
      if (match && 'allowed' in match) {
        res.setHeader('Allow', match.allowed.join(', '));
        sendJson(res, 405, { error: `method ${method} not allowed on ${url.pathname}` });
        return;
      }
      sendJson(res, 404, { error: `no such path: ${url.pathname}` });
    } catch (err) {
      this.answerError(res, err);
    }
  }

  private answerError(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      sendJson(res, err.status, { error: err.message, ...err.body });
      return;
    }
    this.stats.errors++;
    this.o.log.error(`http: request failed: ${(err as Error).stack ?? String(err)}`);
    sendJson(res, 500, { error: 'internal error (see the listener log)' });
  }
}
