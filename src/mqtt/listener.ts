// The MQTT side of the listener: one MQTT.js client with a stable client id and a persistent
// session, subscribing inside every `connect` (so every reconnect resubscribes), reconnecting
// with capped exponential backoff, and handing each message to a sink that calls back once the
// message is committed — only then is it acknowledged (see AckGate).
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import type { Writable } from 'node:stream';
import { MqttClient } from 'mqtt';
import type { IClientOptions, IPublishPacket, IStore } from 'mqtt';
import { AckGate } from './ack-gate.js';
import { backoffDelay, reconnectLogged } from './backoff.js';
import { brokerStreamBuilder, isNameResolutionError } from './broker-connection.js';
import type { Logger } from '../logging/types.js';

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  packetId?: number;
  dup: boolean;
  retain: boolean;
}

export interface MessageSink {
  /** Takes a message; calls `committed` once it is durably handled. False = apply back-pressure. */
  accept(message: InboundMessage, committed: () => void): boolean;
  onDrain(cb: () => void): void;
}

/** A message the broker publishes for us when it loses the connection (MQTT Last Will). */
export interface WillMessage {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface MqttListenerOptions {
  host: string;
  port: number;
  tls: boolean;
  caFile?: string;
  insecure: boolean;
  clientId: string;
  cleanSession: boolean;
  topics: readonly string[];
  qos: 0 | 1 | 2;
  /** Filters subscribed at QoS 0 whatever `qos` says (availability: see AvailabilityTracker). */
  qos0Topics?: readonly string[];
  username?: string;
  password?: string;
  keepaliveSeconds: number;
  retryAuthFailures: boolean;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  /** Where MQTT.js keeps incoming QoS 2 messages between PUBREC and PUBREL (default: memory). */
  incomingStore?: IStore;
  /** Name resolution for the broker host, asked at every attempt (default: the system's). */
  lookup?: LookupFunction;
  /** The flag that named the host, for the log line when it does not resolve (default: -b/--broker). */
  hostFlag?: string;
  /** Topics subscribed at QoS 1 beside `topics` (e.g. outage recovery's). */
  extraSubscriptions?: readonly string[];
  /** The Last Will of each connection (asked again before every connect). */
  will?: () => WillMessage | undefined;
  onConnect?: () => void;
  /** A connection that was up is gone; `lastHeardMs`: when the broker last sent us a packet. */
  onConnectionLost?: (reason: string, lastHeardMs: number) => void;
}

export class AuthRefusedError extends Error {
  readonly exitCode = 3;
}

const ACK_BUFFER_LIMIT = 64 * 1024;

// CONNACK codes: 4/5 in MQTT 3.1.1, 134/135 in MQTT 5 (bad credentials / not authorized).
const AUTH_CODES = new Set([4, 5, 134, 135]);

export class MqttListener {
  private client: MqttClient | undefined;
  private gate: AckGate | undefined;
  private attempts = 0;
  private stopping = false;
  private everConnected = false;
  /** Set by pause() (the app is shutting down): a restart in progress must not reconnect. */
  private paused = false;
  private up = false;
  private lastHeardMs = 0;
  private lastError: string | undefined;
  /** Why the last attempt failed (a socket error), told in the reconnect line. */
  private lastSocketError: (Error & { code?: number | string }) | undefined;
  /** Connections made, and how many messages were handed to the sink (for status and tests). */
  readonly stats = { connects: 0, messages: 0, subscribeFailures: 0 };
  /** Wall-clock ms since when the client has had no connection (undefined while connected), for /health. */
  private disconnectedAt: number | undefined;

  constructor(
    private readonly options: MqttListenerOptions,
    private readonly sink: MessageSink,
    private readonly log: Logger,
    private readonly onFatal: (err: Error) => void,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get disconnectedSince(): number | undefined {
    return this.disconnectedAt;
  }

  get brokerUrl(): string {
    return `${this.options.tls ? 'mqtts' : 'mqtt'}://${this.options.host}:${this.options.port}`;
  }

  /** Creates the client and starts connecting; does not wait for the broker (it may be down). */
  start(): void {
    if (this.client) return;
    this.stopping = false;
    this.attempts = 0;
    this.up = false;
    this.disconnectedAt ??= Date.now();
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      clean: o.cleanSession,
      keepalive: o.keepaliveSeconds,
      reconnectPeriod: o.reconnectInitialMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      resubscribe: false, // we subscribe in every 'connect' ourselves
      reconnectOnConnackError: o.retryAuthFailures,
      protocolVersion: 4,
    };
    // MQTT.js logs every packet through `debug`; unless DEBUG asks for it, a no-op saves that
    // per-message cost (about 3 % of the listener's CPU in `npm run bench`).
    if (!process.env['DEBUG']) clientOptions.log = () => {};
    if (o.incomingStore) clientOptions.incomingStore = o.incomingStore;
    const will = o.will?.();
    if (will) clientOptions.will = will;
    if (o.username !== undefined) clientOptions.username = o.username;
    if (o.password !== undefined) clientOptions.password = o.password;
    const streamBuilder = brokerStreamBuilder({
      host: o.host,
      port: o.port,
      tls: o.tls,
      rejectUnauthorized: !o.insecure,
      ...(o.tls && o.caFile ? { ca: readFileSync(o.caFile) } : {}),
      ...(o.lookup ? { lookup: o.lookup } : {}),
    });
    this.log.info(`connecting to ${this.brokerUrl} as ${o.clientId} (clean session: ${o.cleanSession})`);
    const client = new MqttClient(streamBuilder, clientOptions);
    this.client = client;
    const gate = new AckGate(client);
    this.gate = gate;

    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => this.handle(packet, callback);

    // Runs before MQTT.js's own 'close' handler, which schedules the reconnect with this period.
    client.prependListener('close', () => {
      if (this.up) {
        this.up = false;
        o.onConnectionLost?.(this.stopping ? 'the listener closed the connection (stop or restart)' : (this.lastError ?? 'connection closed'), this.lastHeardMs);
      }
      this.lastError = undefined;
      const nextWill = o.will?.();
      if (nextWill) client.options.will = nextWill;
      this.disconnectedAt ??= Date.now();
      if (this.stopping) return;
      const backoff = { initialMs: o.reconnectInitialMs ?? 1000, maxMs: o.reconnectMaxMs ?? 60_000 };
      const delay = backoffDelay(this.attempts, backoff);
      client.options.reconnectPeriod = delay;
      this.attempts++;
      const cause = this.lastSocketError;
      this.lastSocketError = undefined;
      this.logReconnect(cause, delay, reconnectLogged(this.attempts, backoff));
    });
    client.on('connect', (connack) => {
      this.attempts = 0;
      this.disconnectedAt = undefined;
      this.everConnected = true;
      this.stats.connects++;
      client.options.reconnectPeriod = o.reconnectInitialMs ?? 1000;
      gate.newConnection();
      this.log.info(`connected to ${this.brokerUrl} (session present: ${connack.sessionPresent})`);
      this.subscribe(client);
      this.up = true;
      o.onConnect?.();
    });
    // When the broker last spoke (any packet, PINGRESP included): an outage starts no later.
    if (o.onConnectionLost) client.on('packetreceive', () => (this.lastHeardMs = Date.now()));
    client.on('error', (err: Error & { code?: number | string }) => {
      if (typeof err.code === 'number' && AUTH_CODES.has(err.code) && !o.retryAuthFailures) {
        const fatal = new AuthRefusedError(
          `broker ${this.brokerUrl} refused the credentials (${err.message}); check the credentials file or use --retry-auth-failures`,
        );
        this.log.error(fatal.message);
        this.onFatal(fatal);
        return;
      }
      this.lastError = err.message;
      // Socket errors (refused, reset, name not found) are told once, in the reconnect line.
      if (typeof err.code === 'string') this.lastSocketError = err;
      else this.log.warn(`mqtt: ${err.message}`);
    });
  }

  /**
   * One line per attempt while the delay still grows, then every 10th (a broker down for a day
   * is ~150 lines, not 1440). A host that does not resolve is an error naming the flag: at boot
   * the network or DNS may come later, but a typo never heals, and the log must say which.
   */
  private logReconnect(cause: (Error & { code?: number | string }) | undefined, delay: number, logged: boolean | 'every-10th'): void {
    if (!logged) return;
    const o = this.options;
    const next = `reconnect attempt ${this.attempts} in ${(delay / 1000).toFixed(1)} s${logged === 'every-10th' ? ' (logged every 10th attempt)' : ''}`;
    if (isNameResolutionError(cause)) {
      this.log.error(`broker host ${JSON.stringify(o.host)} (${o.hostFlag ?? '-b/--broker'}) does not resolve (${cause.code}); ${next}`);
      return;
    }
    const what = this.everConnected && this.attempts === 1 ? 'connection to broker lost' : 'broker not reachable';
    this.log.warn(`${what}${cause ? ` (${cause.message})` : ''}; ${next}`);
  }

  /** Stops taking messages: those arriving now are not acknowledged (the broker keeps them). */
  pause(): void {
    this.stopping = true;
    this.paused = true;
  }

  /** Ends the client and waits until its socket is closed. Idempotent. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.client = undefined;
    this.gate = undefined;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => client.end(true, {}, () => resolve()), 2000);
      client.end(false, {}, () => {
        clearTimeout(force);
        resolve();
      });
    });
    client.removeAllListeners();
    // A socket still connecting when the client ended (a stop right after start) may report its
    // reset later; with no listener that 'error' would crash the process on its way out.
    client.on('error', () => undefined);
  }

  /**
   * Credentials re-read from their file (SIGHUP). When they changed, reconnects with them (the
   * persistent session keeps what the broker queued meanwhile). Returns whether they changed.
   */
  async setCredentials(username: string | undefined, password: string | undefined): Promise<boolean> {
    if (this.options.username === username && this.options.password === password) return false;
    this.options.username = username;
    this.options.password = password;
    if (this.client) await this.restart();
    return true;
  }

  /** Clean in-process restart (watchdog): end the old client fully, then create a new one. */
  async restart(): Promise<void> {
    await this.stop();
    if (this.paused) return;
    this.start();
  }

  /** Publishes (QoS 1 by default) and resolves once the broker has it (PUBACK). */
  async publish(topic: string, payload: string, qos: 0 | 1 | 2 = 1): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the MQTT client is not running');
    await client.publishAsync(topic, payload, { qos });
  }

  private subscribe(client: MqttClient): void {
    const { qos, extraSubscriptions = [] } = this.options;
    const qos0 = this.options.qos0Topics ?? [];
    const topics = [...this.options.topics, ...extraSubscriptions, ...qos0];
    const map: Record<string, { qos: 0 | 1 | 2 }> = {};
    for (const t of this.options.topics) map[t] = { qos };
    for (const t of extraSubscriptions) map[t] ??= { qos: 1 };
    for (const t of qos0) map[t] ??= { qos: 0 };
    client.subscribe(
      map,
      (err, granted) => {
        if (err) {
          this.stats.subscribeFailures++;
          this.log.error(`subscribe to ${topics.join(', ')} failed: ${err.message}`);
          return;
        }
        for (const g of granted ?? []) {
          if (g.qos === 128) {
            this.stats.subscribeFailures++;
            this.log.error(`broker REFUSED the subscription to ${g.topic} (SUBACK 0x80): no readings will arrive on it`);
          } else {
            this.log.info(`subscribed to ${g.topic} (granted QoS ${g.qos})`);
          }
        }
      },
    );
  }

  /**
   * Back-pressure on the acknowledgements: a busy broker may send faster than it reads our
   * PUBACKs, which would then pile up in memory. Past ACK_BUFFER_LIMIT bytes unsent, MQTT.js gets
   * its callback (and reads the next packet) only once the socket has drained.
   */
  private whenAcksFlushed(callback: () => void): void {
    const stream = (this.client as unknown as { stream?: Writable } | undefined)?.stream;
    if (stream && !stream.destroyed && stream.writableLength > ACK_BUFFER_LIMIT) {
      stream.once('drain', () => callback());
    } else {
      callback();
    }
  }

  private handle(packet: IPublishPacket, callback: (err?: Error) => void): void {
    const gate = this.gate;
    if (this.stopping || !gate) return; // not acknowledged: the broker redelivers it next session
    this.stats.messages++;
    const qos = packet.qos;
    const packetId = qos > 0 ? packet.messageId : undefined;
    const message: InboundMessage = {
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos,
      dup: packet.dup ?? false,
      retain: packet.retain ?? false,
      packetId,
    };
    if (!gate.supported) {
      this.handleOneByOne(message, gate, callback);
      return;
    }
    // Pipelined: MQTT.js may read the next packet now; the ack itself waits in the gate for the commit.
    if (packetId !== undefined) gate.hold(packetId);
    const committed = packetId !== undefined ? releaser(gate, packetId, gate.connectionGeneration) : noop;
    if (this.sink.accept(message, committed)) this.whenAcksFlushed(callback);
    else this.sink.onDrain(() => this.whenAcksFlushed(callback));
  }

  /** Without the gate's hook: MQTT.js sends the ack when its callback runs, so only after the commit. */
  private handleOneByOne(message: InboundMessage, gate: AckGate, callback: (err?: Error) => void): void {
    let called = false;
    const generation = gate.connectionGeneration;
    this.sink.accept(message, () => {
      if (message.packetId !== undefined) gate.release(message.packetId, generation);
      if (!called) {
        called = true;
        callback();
      }
    });
  }
}

const noop = (): void => {};

/** The commit callback of one message, made outside handle() so it does not keep MQTT.js's callback alive. */
function releaser(gate: AckGate, packetId: number, generation: number): () => void {
  return () => gate.release(packetId, generation);
}
