// Acknowledge-after-commit for MQTT.js. MQTT.js handles incoming packets strictly one at a time
// and sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) as soon as handleMessage's callback runs, so
// waiting in handleMessage for a commit would allow one commit per message. Instead the gate
// lets MQTT.js go on to the next packet but holds the acknowledgement packet itself until the
// row is committed, then writes it. Acknowledgements held for a connection that has since closed
// are dropped: the broker redelivers those messages (DUP) and the delivery ledger stores them once.
//
// The acknowledgements a commit releases leave in ONE socket write of one buffer (encoded by
// mqtt-packet, the library MQTT.js encodes with). Through MQTT.js each ack is 3 tiny chunks, and
// even corked they go out as one writev of 3 x N buffers, of which libuv writes at most 1024 per
// event-loop turn: under load (npm run bench) acks queued in memory faster than they left (RSS
// grew to ~500 MB over 10^6 readings) and reached the broker late.
import type { MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

const HELD_COMMANDS = new Set(['puback', 'pubcomp']);

export class AckGate {
  private readonly awaiting = new Set<number>();
  private readonly held = new Map<number, { cmd: string; messageId?: number }>();
  private generation = 0;
  private readonly original: SendPacket | undefined;
  /** Acknowledgements released in this tick, written together on the next one. */
  private outbox: Array<{ cmd: string; messageId?: number }> = [];
  private flushScheduled = false;

  constructor(private readonly client: MqttClient) {
    // _sendPacket is MQTT.js-internal (pinned version, covered by the integration tests). If a
    // future version drops it, the gate degrades to ack-per-commit via `supported`.
    const internal = client as unknown as { _sendPacket?: SendPacket };
    if (typeof internal._sendPacket === 'function') {
      const original = internal._sendPacket.bind(client);
      this.original = original;
      internal._sendPacket = (packet, cb, ...rest) => {
        const id = packet.messageId;
        if (HELD_COMMANDS.has(packet.cmd) && id !== undefined && this.awaiting.has(id)) {
          this.held.set(id, packet);
          cb?.();
          return;
        }
        original(packet, cb, ...rest);
      };
    }
  }

  /** False when MQTT.js has no hook: then the caller must delay handleMessage's callback instead. */
  get supported(): boolean {
    return this.original !== undefined;
  }

  get connectionGeneration(): number {
    return this.generation;
  }

  /** A new connection: acknowledgements still held belong to the old one and are dropped. */
  newConnection(): void {
    this.generation++;
    this.awaiting.clear();
    this.held.clear();
    this.outbox = [];
  }

  hold(messageId: number): void {
    this.awaiting.add(messageId);
  }

  /** The message's row is committed: send its acknowledgement if MQTT.js already asked to. */
  release(messageId: number, generation: number): void {
    if (generation !== this.generation) return;
    this.awaiting.delete(messageId);
    const packet = this.held.get(messageId);
    if (packet && this.original) {
      this.held.delete(messageId);
      this.outbox.push(packet);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => this.flushAcks());
      }
    }
  }

  private flushAcks(): void {
    this.flushScheduled = false;
    const acks = this.outbox;
    this.outbox = [];
    if (acks.length === 0 || !this.original) return;
    // Not connected any more: dropped like any ack of an old connection (redelivered, stored once).
    if (!this.client.connected) return;
    if (acks.length === 1) {
      this.original(acks[0]!);
      return;
    }
    const opts = { protocolVersion: this.client.options.protocolVersion ?? 4 };
    const bytes = Buffer.concat(acks.map((p) => mqttPacket.generate(p as mqttPacket.Packet, opts)));
    this.client.stream.write(bytes);
  }

  get heldCount(): number {
    return this.held.size;
  }
}
