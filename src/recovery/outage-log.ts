// The outage log: every start and stop of the listener and every loss and return of its broker
// connection, with time and reason, in `outage_log`. A heartbeat in `listener_alive` (every 30 s)
// makes an outage that spans a crash, a kill or a power cut one outage: at start, the time since
// the listener was last known alive counts as lost. A loss already recorded is never moved by a
// second one (the seed's rule): the outage lasts from the first loss to the next connection.
// An outage whose readings were asked for but not yet received stays "unrecovered": a stop or
// crash before the answer makes the next start's outage begin there, so it is asked for again.
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../logging/types.js';
import { formatMicrosUTC, parseMicrosUTC } from '../store/time.js';
import type { Timers } from '../timers.js';
import { ensureRecoverySchema } from './schema.js';

export interface Outage {
  lostMs: number;
  restoredMs: number;
}

export interface OutageLogOptions {
  /** The writer's database handle (its writes are single statements between the writer's commits). */
  database: () => BetterSqlite3.Database;
  timers: Timers;
  heartbeatMs: number;
  log: Logger;
  /** Called on each connection that ends an outage (including the first one after start). */
  onRestored?: (outage: Outage) => void;
}

interface AliveRow {
  aliveUTC: string;
  lostUTC: string | null;
  stoppedUTC: string | null;
}

type Event = 'start' | 'stop' | 'disconnect' | 'reconnect' | 'connect';

const utc = (ms: number): string => formatMicrosUTC(Math.round(ms * 1000));
const msOf = (text: string): number => Math.floor(parseMicrosUTC(text) / 1000);

export class OutageLog {
  private lostSinceMs: number | undefined;
  private unrecoveredSinceMs: number | undefined;
  private heartbeat: unknown;
  private started = false;
  private db: BetterSqlite3.Database | undefined;
  private st:
    | { event: BetterSqlite3.Statement; state: BetterSqlite3.Statement; alive: BetterSqlite3.Statement; read: BetterSqlite3.Statement }
    | undefined;

  constructor(private readonly options: OutageLogOptions) {}

  /** Start of the current outage, if the listener is not connected (ms since the epoch). */
  get lostSince(): number | undefined {
    return this.lostSinceMs;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.options.timers.now();
    const last = this.statements().read.get() as AliveRow | undefined;
    let reason: string;
    if (!last) {
      reason = 'first start with this database';
    } else {
      const alive = msOf(last.aliveUTC);
      this.lostSinceMs = last.lostUTC !== null ? Math.min(msOf(last.lostUTC), alive) : alive;
      reason =
        last.stoppedUTC !== null
          ? `after a stop at ${last.stoppedUTC}`
          : `the listener was not stopped cleanly (crash, kill or power loss); last alive at ${last.aliveUTC}`;
    }
    this.record('start', reason, now);
    this.saveState(now, null);
    if (this.lostSinceMs !== undefined) this.options.log.info(`outage since ${utc(this.lostSinceMs)} (${reason}) lasts until the broker connection is back`);
    this.heartbeat = this.options.timers.setInterval(() => this.beat(), this.options.heartbeatMs);
  }

  /**
   * Start of the oldest outage asked about and not yet answered (undefined: none). Kept in the
   * database, so the next start asks again from there if the answer never came.
   */
  unrecovered(sinceMs: number | undefined): void {
    if (sinceMs === this.unrecoveredSinceMs) return;
    this.unrecoveredSinceMs = sinceMs;
    if (this.started) this.saveState(this.options.timers.now(), null);
  }

  /** The broker connection is up. */
  connected(): void {
    if (!this.started) return;
    const now = this.options.timers.now();
    const lost = this.lostSinceMs;
    if (lost === undefined) {
      this.record('connect', 'connected', now);
      return;
    }
    this.lostSinceMs = undefined;
    this.record('reconnect', `connected after ${((now - lost) / 1000).toFixed(1)} s without one`, now, lost, now);
    this.saveState(now, null);
    this.options.onRestored?.({ lostMs: lost, restoredMs: now });
  }

  /** The broker connection is gone; `lastHeardMs` is when the broker last sent us anything. */
  disconnected(reason: string, lastHeardMs: number): void {
    if (!this.started) return;
    const now = this.options.timers.now();
    if (this.lostSinceMs !== undefined) {
      this.record('disconnect', `${reason} (outage since ${utc(this.lostSinceMs)} continues)`, now, this.lostSinceMs);
      return;
    }
    // Messages after the broker's last packet may be gone already: the outage starts there.
    this.lostSinceMs = lastHeardMs > 0 ? Math.min(lastHeardMs, now) : now;
    this.record('disconnect', reason, now, this.lostSinceMs);
    this.saveState(now, null);
  }

  /** Clean stop: what happens from now until the next start is an outage too. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.options.timers.clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const now = this.options.timers.now();
    this.lostSinceMs ??= now;
    this.record('stop', 'listener stopped', now, this.lostSinceMs);
    this.saveState(now, now);
    this.db = undefined;
    this.st = undefined;
  }

  private beat(): void {
    this.write(() => this.statements().alive.run(utc(this.options.timers.now())), 'heartbeat');
  }

  private record(event: Event, reason: string, now: number, lostMs?: number, restoredMs?: number): void {
    this.write(
      () => this.statements().event.run(utc(now), event, reason, lostMs !== undefined ? utc(lostMs) : null, restoredMs !== undefined ? utc(restoredMs) : null),
      event,
    );
  }

  private saveState(now: number, stoppedMs: number | null): void {
    const since = [this.lostSinceMs, this.unrecoveredSinceMs].filter((t): t is number => t !== undefined);
    const lost = since.length > 0 ? utc(Math.min(...since)) : null;
    this.write(() => this.statements().state.run(utc(now), lost, stoppedMs !== null ? utc(stoppedMs) : null), 'state');
  }

  /** A full disk must not stop the listener: the outage is still known in memory. */
  private write(fn: () => unknown, what: string): void {
    try {
      fn();
    } catch (err) {
      this.options.log.error(`outage log: cannot record ${what}: ${(err as Error).message}`);
    }
  }

  private statements(): NonNullable<OutageLog['st']> {
    const db = this.options.database();
    if (this.st && this.db === db) return this.st;
    ensureRecoverySchema(db);
    this.db = db;
    this.st = {
      event: db.prepare('INSERT INTO outage_log (eventUTC, event, reason, lostUTC, restoredUTC) VALUES (?, ?, ?, ?, ?)'),
      state: db.prepare('INSERT OR REPLACE INTO listener_alive (id, aliveUTC, lostUTC, stoppedUTC) VALUES (1, ?, ?, ?)'),
      alive: db.prepare('UPDATE listener_alive SET aliveUTC = ? WHERE id = 1'),
      read: db.prepare('SELECT aliveUTC, lostUTC, stoppedUTC FROM listener_alive WHERE id = 1'),
    };
    return this.st;
  }
}
