// MQTT.js's store for incoming QoS 2 messages, kept in the database instead of in memory.
// MQTT.js puts a QoS 2 PUBLISH in its incoming store, sends PUBREC when put() calls back, and
// hands the message to the listener when the broker's PUBREL arrives. Once the broker has our
// PUBREC it will never send that PUBLISH again, so a store in memory loses the message if the
// process dies before PUBREL. Here put() calls back (and PUBREC leaves) only after the message is
// committed to qos2_incoming; the row goes away in the same transaction as the reading's row.
// del() is therefore a no-op, and a restart stores what is left (see ListenerApp). createStream()
// (used only for outgoing stores) is Store's, over its empty in-memory map.
import { Store } from 'mqtt';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import type { Logger } from '../logging/types.js';
import type { HeldQos2Message } from '../store/reading-store.js';
import { nowMicros } from '../store/time.js';
import { realTimers, type Timers } from '../timers.js';

type DoneCallback = (error?: Error) => void;
type PacketCallback = (error?: Error, packet?: Packet) => void;

export interface Qos2Holder {
  /** Commits the messages (SQLite at once, PostgreSQL with a promise); throws or rejects on failure. */
  holdQos2(messages: readonly HeldQos2Message[]): void | Promise<void>;
  heldQos2(packetId: number): HeldQos2Message | undefined;
}

const RETRY_INITIAL_MS = 200;
const RETRY_MAX_MS = 10_000;

export class DurableIncomingStore extends Store {
  private pending: Array<{ message: HeldQos2Message; cb: DoneCallback }> = [];
  private scheduled = false;
  private retryTimer: unknown;
  private failures = 0;
  private closed = false;
  /** An asynchronous hold (PostgreSQL) under way. */
  private holding = false;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly onOrphan: ((held: HeldQos2Message) => void) | undefined;

  constructor(
    private readonly holder: Qos2Holder,
    settings: {
      log: Logger;
      timers?: Timers;
      /**
       * A held message whose packet id the broker now uses for a different message: the session
       * it belonged to is gone (no PUBREL will come), so it must be stored before it is replaced.
       */
      onOrphan?: (held: HeldQos2Message) => void;
    },
  ) {
    super();
    this.log = settings.log;
    this.onOrphan = settings.onOrphan;
    this.timers = settings.timers ?? realTimers;
  }

  override put(packet: Packet, cb: DoneCallback): this {
    const p = packet as IPublishPacket;
    if (p.cmd !== 'publish' || p.messageId === undefined) {
      cb();
      return this;
    }
    const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
    // Same id, same message: a redelivery (DUP), replaced by itself. Same id, another message: see onOrphan.
    const earlier = this.holder.heldQos2(p.messageId);
    if (earlier && (earlier.topic !== p.topic || !earlier.payload.equals(payload))) this.onOrphan?.(earlier);
    this.pending.push({
      message: {
        packetId: p.messageId,
        topic: p.topic,
        payload,
        receivedMicros: nowMicros(),
        dup: p.dup ?? false,
        retain: p.retain ?? false,
      },
      cb,
    });
    if (!this.scheduled && this.retryTimer === undefined) {
      // One transaction for every QoS 2 message of this event-loop turn.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    return this;
  }

  override get(packet: Pick<Packet, 'messageId'>, cb: PacketCallback): this {
    const id = packet.messageId;
    let held: HeldQos2Message | undefined;
    try {
      held = id === undefined ? undefined : this.holder.heldQos2(id);
    } catch (err) {
      cb(err as Error);
      return this;
    }
    // Unknown: already stored (its row went with the commit). MQTT.js then just sends PUBCOMP.
    if (!held) cb(new Error(`no held QoS 2 message ${id}`));
    else {
      const publish: IPublishPacket = {
        cmd: 'publish',
        qos: 2,
        messageId: held.packetId,
        topic: held.topic,
        payload: held.payload,
        dup: held.dup,
        retain: held.retain,
      };
      cb(undefined, publish);
    }
    return this;
  }

  /** The row is deleted together with the reading's commit, not here (see the file comment). */
  override del(packet: Pick<Packet, 'messageId'>, cb: PacketCallback): this {
    cb(undefined, packet as Packet);
    return this;
  }

  /** MQTT.js closes its stores when its client ends; ours outlives clients (watchdog restarts). */
  override close(cb: DoneCallback): void {
    cb();
  }

  /** At shutdown: no more retries. Messages not yet committed were not acknowledged (no PUBREC). */
  stop(): void {
    this.closed = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.pending = [];
  }

  private flush(): void {
    if (this.closed || this.pending.length === 0 || this.holding) return;
    const batch = this.pending;
    this.pending = [];
    let held: void | Promise<void>;
    try {
      held = this.holder.holdQos2(batch.map((e) => e.message));
    } catch (err) {
      this.holdFailed(batch, err as Error);
      return;
    }
    if (!(held instanceof Promise)) {
      this.held(batch);
      return;
    }
    this.holding = true;
    held.then(
      () => {
        this.holding = false;
        this.held(batch);
        if (this.pending.length > 0) this.flush();
      },
      (err: unknown) => {
        this.holding = false;
        this.holdFailed(batch, err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private held(batch: Array<{ message: HeldQos2Message; cb: DoneCallback }>): void {
    this.failures = 0;
    if (this.closed) return;
    for (const e of batch) e.cb();
  }

  /** No PUBREC until the message is safe: retry with backoff (disk full, database locked or unreachable). */
  private holdFailed(batch: Array<{ message: HeldQos2Message; cb: DoneCallback }>, err: Error): void {
    this.pending = [...batch, ...this.pending];
    if (this.closed) return;
    this.failures++;
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.log.error(`cannot keep ${batch.length} QoS 2 message(s) before acknowledging them; retrying (attempt ${this.failures}): ${err.message}`);
    }
    const delay = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** Math.min(this.failures - 1, 20));
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, delay);
  }
}
