// An in-process MQTT broker (aedes) for `--embedded-broker`: the zero-setup default of
// `npm start`, and the broker the tests start on a free port. Bound to 127.0.0.1 unless told
// otherwise; when credentials are configured, clients must present them.
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Aedes } from 'aedes';

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 0 = any free port (see `port` after start). */
  port?: number;
  username?: string;
  password?: string;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  constructor(private readonly options: EmbeddedBrokerOptions = {}) {}

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /** Number of clients connected right now. */
  get clientCount(): number {
    return this.broker?.connectedClients ?? 0;
  }

  get aedes(): Aedes {
    if (!this.broker) throw new Error('broker not started');
    return this.broker;
  }

  async start(): Promise<void> {
    if (this.server) return;
    // Reads the current credentials at every login, so setCredentials() (SIGHUP) applies at once.
    const broker = await Aedes.createBroker({
      authenticate: (_client, user, pass, done) => {
        const { username, password } = this.options;
        if (username === undefined) return done(null, true);
        const ok = user === username && sameSecret(pass ? pass.toString() : '', password ?? '');
        if (ok) return done(null, true);
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
        done(err, false);
      },
    });
    const server = createServer(broker.handle);
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 1883, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : 0;
    this.broker = broker;
    this.server = server;
  }

  /** New credentials for logins from now on (connected clients stay connected). */
  setCredentials(username: string | undefined, password: string | undefined): void {
    this.options.username = username;
    this.options.password = password;
  }

  /** Closes the listening socket, every client connection and the broker. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (!server || !broker) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
