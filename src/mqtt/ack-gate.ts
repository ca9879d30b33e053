// Acknowledge-after-commit for MQTT.js. MQTT.js handles incoming packets strictly one at a time
// and sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) as soon as handleMessage's callback runs, so
// waiting in handleMessage for a commit would allow one commit per message. Instead the gate
// lets MQTT.js go on to the next packet but holds the acknowledgement packet itself until the
// row is committed, then writes it. Acknowledgements held for a connection that has since closed
// are dropped: the broker redelivers those messages (DUP) and the delivery ledger stores them once.
import type { MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

const HELD_COMMANDS = new Set(['puback', 'pubcomp']);

export class AckGate {
  private readonly awaiting = new Set<number>();
  private readonly held = new Map<number, { cmd: string; messageId?: number }>();
  private generation = 0;
  private corked = false;
  private readonly original: SendPacket | undefined;

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
      this.corkUntilNextTick();
      this.original(packet);
    }
  }

  /** A commit releases up to a batch of acknowledgements at once: send them in one write. */
  private corkUntilNextTick(): void {
    if (this.corked) return;
    const stream = (this.client as unknown as { stream?: { cork(): void; uncork(): void; destroyed?: boolean } }).stream;
    if (!stream || stream.destroyed) return;
    this.corked = true;
    stream.cork();
    process.nextTick(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  get heldCount(): number {
    return this.held.size;
  }
}
