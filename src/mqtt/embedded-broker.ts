// An in-process MQTT broker (aedes) for `--embedded-broker`: the zero-setup default of
// `npm start`, and the broker the tests start on a free port. Bound to 127.0.0.1 unless told
// otherwise. Who may log in, publish and subscribe is BrokerAccess's job; this part caps the
// number of clients and the size of their packets, so a flood cannot take the listener's memory.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { silentLogger, type Logger } from '../logging/types.js';
import { BrokerAccess, type BrokerAccessCounters, type BrokerAccessPolicy } from './broker-access.js';
import { BROKER_LIMIT_DEFAULTS, isLoopback } from './broker-defaults.js';
import { guardPacketSize } from './packet-size-guard.js';

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 0 = any free port (see `port` after start). */
  port?: number;
  /** Shorthand for tests: only this user (no device users). Ignored when `access` is given. */
  username?: string;
  password?: string;
  access?: Omit<BrokerAccessPolicy, 'loopbackOnly'>;
  maxClients?: number;
  maxPacketBytes?: number;
  log?: Logger;
}

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  /** Logins, authorization, and the counters of what was refused. */
  readonly access: BrokerAccess;

  constructor(private readonly options: EmbeddedBrokerOptions = {}) {
    const policy = options.access ?? {
      listener: { username: options.username, password: options.password },
      users: [],
      allowAnonymous: false,
      publishFilters: ['#'],
    };
    this.access = new BrokerAccess({ ...policy, loopbackOnly: isLoopback(this.host) }, options.log ?? silentLogger);
  }

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

  /** What was refused since start (for the metrics endpoint). */
  get counters(): Readonly<BrokerAccessCounters> {
    return this.access.counters;
  }

  get aedes(): Aedes {
    if (!this.broker) throw new Error('broker not started');
    return this.broker;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const access = this.access;
    const maxPacketBytes = this.options.maxPacketBytes ?? BROKER_LIMIT_DEFAULTS.maxPacketBytes;
    const maxClients = this.options.maxClients ?? BROKER_LIMIT_DEFAULTS.maxClients;
    const broker = await Aedes.createBroker({
      // Reads the current credentials at every login, so setCredentials() (SIGHUP) applies at once.
      authenticate: (client, user, pass, done) => {
        access.authenticate(client, user, pass).then(
          (refusal) => (refusal === undefined ? done(null, true) : done(Object.assign(new Error(refusal), { returnCode: 4 as const }), false)),
          (err: unknown) => done(Object.assign(err instanceof Error ? err : new Error(String(err)), { returnCode: 3 as const }), false),
        );
      },
      // A refused publish closes the client's connection (aedes; allowed by MQTT-3.3.5-2).
      authorizePublish: (client, packet, done) => {
        const refusal = access.publishRefusal(client, packet);
        if (refusal === undefined) return done(null);
        access.noteRefused('publish', client, `to ${packet.topic}`, refusal);
        done(new Error(refusal));
      },
      // A refused subscription gets SUBACK 0x80; the client stays connected.
      authorizeSubscribe: (client, sub, done) => {
        const refusal = access.subscribeRefusal(client, sub.topic);
        if (refusal === undefined) return done(null, sub);
        access.noteRefused('subscribe', client, `to ${sub.topic}`, refusal);
        done(null, null);
      },
    });
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
      guardPacketSize(socket, maxPacketBytes, (bytes) =>
        access.noteDropped('oversized', `closed the connection from ${socket.remoteAddress ?? '?'}: it sent a packet of ${bytes} bytes, over the limit of ${maxPacketBytes} (--embedded-broker-max-packet-size)`),
      );
    });
    server.maxConnections = maxClients;
    server.on('drop', (data) =>
      access.noteDropped('client-limit', `refused a connection from ${data?.remoteAddress ?? '?'}: ${maxClients} clients already connected (--embedded-broker-max-clients)`),
    );
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
    this.access.setListenerCredentials(username, password);
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
