// AvailabilityTracker: claims the messages on --availability-topic filters before they reach the
// reading decoders, keeps each device's current state (online/offline, since when, which topic)
// and stores every change in the `availability` table (device, changedUTC, state, topic), on the
// writer's connection, committed in one transaction per event-loop turn. A message is
// acknowledged only once its change is committed, so a crash loses nothing. Retained messages are
// applied too: at subscribe time the broker hands over the last state of every device, which is
// exactly what we want to know; one that repeats the stored state writes nothing. The current state
// is rebuilt from the table at start, so the answer is right at once after a restart.
// The app subscribes these filters at QoS 0: a broker hands a QoS 1 subscriber its retained
// messages through the same bounded queue as everything else (mosquitto's defaults: 1 020 of
// 10 000 arrived, the rest were dropped), while QoS 0 ones all arrive (npm run bench). What QoS 0
// gives up — changes made while the listener is away — the retained state on reconnect restores.
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../logging/types.js';
import type { InboundMessage } from '../mqtt/listener.js';
import { formatMicrosUTC, nowMicros } from '../store/time.js';
import { realTimers, type Timers } from '../timers.js';
import { parseAvailability, topicMatches, type AvailabilityState } from './availability-message.js';

export const AVAILABILITY_TABLE = 'availability';

const CREATE = `CREATE TABLE IF NOT EXISTS ${AVAILABILITY_TABLE} (device TEXT NOT NULL, changedUTC TEXT NOT NULL,
  state TEXT NOT NULL, topic TEXT NOT NULL, PRIMARY KEY (device, changedUTC))`;

export interface DeviceAvailability {
  state: AvailabilityState;
  /** Receive time of the change, stored format (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC). */
  changedUTC: string;
  topic: string;
}

export interface AvailabilityRow {
  device: string;
  change: DeviceAvailability;
}

/**
 * Where changes are kept. SQLite answers at once (the writer's connection); PostgreSQL
 * (pg-availability.ts) later: write()'s promise resolves only after its transaction committed.
 */
export interface AvailabilityStorage {
  /** Creates the table if missing; the latest change per device. */
  load(): Array<{ device: string } & DeviceAvailability> | Promise<Array<{ device: string } & DeviceAvailability>>;
  /** One transaction for all rows; throws (or rejects) when nothing was committed. */
  write(rows: readonly AvailabilityRow[]): void | Promise<void>;
  close?(): Promise<void>;
}

export interface AvailabilityTrackerOptions {
  filters: readonly string[];
  /** The writer's SQLite connection (the database may be reopened: asked at every commit). */
  database?: () => BetterSqlite3.Database;
  /** Any other storage (PostgreSQL); used instead of `database`. */
  storage?: AvailabilityStorage;
  log: Logger;
  timers?: Timers;
  now?: () => number;
  retryMs?: number;
}

interface Pending {
  device: string;
  change: DeviceAvailability;
  micros: number;
  committed: () => void;
}

export class AvailabilityTracker {
  private readonly current = new Map<string, DeviceAvailability>();
  private readonly lastMicros = new Map<string, number>();
  /** Latest queued (not yet committed) state per device, to tell a change from a repeat. */
  private readonly staged = new Map<string, AvailabilityState>();
  private queue: Pending[] = [];
  private scheduled = false;
  private retryTimer: unknown;
  private started = false;
  private flushing: Promise<void> | undefined;
  readonly storage: AvailabilityStorage;
  private readonly timers: Timers;
  readonly stats = { messages: 0, changes: 0, ignored: 0, failedCommits: 0 };

  constructor(private readonly o: AvailabilityTrackerOptions) {
    this.timers = o.timers ?? realTimers;
    if (o.storage) this.storage = o.storage;
    else if (o.database) this.storage = new SqliteAvailability(o.database);
    else throw new Error('AvailabilityTracker needs a database or a storage');
  }

  get filters(): readonly string[] {
    return this.o.filters;
  }

  /** Creates the table if needed and rebuilds every device's current state from it (SQLite: at once). */
  start(): void | Promise<void> {
    if (this.started) return;
    const rows = this.storage.load();
    if (rows instanceof Promise) return rows.then((r) => this.restored(r));
    this.restored(rows);
  }

  private restored(rows: Array<{ device: string } & DeviceAvailability>): void {
    this.current.clear();
    for (const r of rows) this.current.set(r.device, { state: r.state, changedUTC: r.changedUTC, topic: r.topic });
    this.started = true;
    if (this.o.filters.length > 0) this.o.log.info(`availability: ${rows.length} device state(s) restored; topics ${this.o.filters.join(', ')}`);
  }

  /** Whether a topic is an availability topic (then accept() takes it, not the decoders). */
  claims(topic: string): boolean {
    for (const f of this.o.filters) if (topicMatches(f, topic)) return true;
    return false;
  }

  /** Applies a message; `committed` runs once it is stored (at once when nothing changed). */
  accept(m: InboundMessage, committed: () => void): void {
    this.stats.messages++;
    const parsed = parseAvailability(m.topic, m.payload);
    if ('reason' in parsed) {
      this.stats.ignored++;
      // A misconfigured filter could match a stream of other messages: the first ten, then every 1000th.
      if (this.stats.ignored <= 10 || this.stats.ignored % 1000 === 0) {
        this.o.log.warn(`ignored availability message on ${m.topic.slice(0, 200)} (${this.stats.ignored} so far): ${parsed.reason}`);
      }
      committed();
      return;
    }
    const known = this.staged.get(parsed.device) ?? this.current.get(parsed.device)?.state;
    if (known === parsed.state) {
      committed();
      return;
    }
    const micros = Math.max(nowMicros(this.o.now), (this.lastMicros.get(parsed.device) ?? -1) + 1);
    this.lastMicros.set(parsed.device, micros);
    this.staged.set(parsed.device, parsed.state);
    this.queue.push({ device: parsed.device, change: { state: parsed.state, changedUTC: formatMicrosUTC(micros), topic: m.topic }, micros, committed });
    this.schedule();
  }

  /** The device's current (committed) state, or undefined if no availability message ever named it. */
  stateOf(device: string): DeviceAvailability | undefined {
    return this.current.get(device);
  }

  get devices(): ReadonlyMap<string, DeviceAvailability> {
    return this.current;
  }

  /**
   * Commits what is queued; returns how many changes could not be stored. Idempotent. With an
   * asynchronous storage (PostgreSQL) the answer is a promise.
   */
  stop(): number | Promise<number> {
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const inFlight = this.flushing;
    if (inFlight) return inFlight.then(() => this.stop());
    const last = this.started && this.queue.length > 0 ? this.flush() : undefined;
    this.started = false;
    const finish = (): number => {
      if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      const lost = this.queue.length;
      this.queue = [];
      this.staged.clear();
      return lost;
    };
    if (last) return last.then(finish);
    return finish();
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.started && !this.flushing) void this.flush();
    });
  }

  /** Synchronous with SQLite; with PostgreSQL a promise that settles after the commit (or failure). */
  private flush(): void | Promise<void> {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let written: void | Promise<void>;
    try {
      written = this.storage.write(batch);
    } catch (err) {
      this.failed(batch, err);
      return;
    }
    if (!(written instanceof Promise)) {
      this.committed(batch);
      return;
    }
    const flushing = written.then(
      () => this.committed(batch),
      (err: unknown) => this.failed(batch, err),
    ).finally(() => {
      this.flushing = undefined;
      // What arrived during the commit goes next.
      if (this.started && this.queue.length > 0 && this.retryTimer === undefined) this.schedule();
    });
    this.flushing = flushing;
    return flushing;
  }

  private failed(batch: Pending[], err: unknown): void {
    this.queue = batch.concat(this.queue);
    this.stats.failedCommits++;
    if (this.stats.failedCommits === 1 || this.stats.failedCommits % 10 === 0) {
      this.o.log.error(`cannot store ${batch.length} availability change(s), not acknowledged; retrying: ${(err as Error).message}`);
    }
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.started && !this.flushing) void this.flush();
    }, this.o.retryMs ?? 1000);
  }

  private committed(batch: Pending[]): void {
    for (const p of batch) {
      this.current.set(p.device, p.change);
      if (this.staged.get(p.device) === p.change.state) this.staged.delete(p.device);
      this.stats.changes++;
    }
    for (const p of batch) p.committed();
    const last = batch[batch.length - 1]!;
    this.o.log.info(
      batch.length === 1 ? `availability: ${last.device} is ${last.change.state} (${last.change.topic})` : `availability: ${batch.length} change(s) stored, last ${last.device} ${last.change.state}`,
    );
  }
}

/** The SQLite storage: the writer's connection, one transaction per flush. */
class SqliteAvailability implements AvailabilityStorage {
  private insert: { db: BetterSqlite3.Database; tx: (rows: readonly AvailabilityRow[]) => void } | undefined;

  constructor(private readonly database: () => BetterSqlite3.Database) {}

  load(): Array<{ device: string } & DeviceAvailability> {
    const db = this.database();
    db.exec(CREATE);
    // SQLite takes the bare columns from the row holding MAX(): the latest change per device.
    return db
      .prepare(`SELECT device, MAX(changedUTC) AS changedUTC, state, topic FROM ${AVAILABILITY_TABLE} GROUP BY device`)
      .all() as Array<{ device: string; changedUTC: string; state: AvailabilityState; topic: string }>;
  }

  write(rows: readonly AvailabilityRow[]): void {
    const db = this.database();
    if (this.insert?.db !== db) {
      const put = db.prepare(`INSERT OR REPLACE INTO ${AVAILABILITY_TABLE} (device, changedUTC, state, topic) VALUES (?, ?, ?, ?)`);
      const tx = db.transaction((batch: readonly AvailabilityRow[]) => {
        for (const r of batch) put.run(r.device, r.change.changedUTC, r.change.state, r.change.topic);
      });
      this.insert = { db, tx };
    }
    this.insert.tx(rows);
  }
}
