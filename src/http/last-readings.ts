// Every sensor's last reading, in memory: read once from the database when the service starts
// (through its read-only connection), then kept current by the writer's commit observer with the
// readings it has just committed. So GET /api/sensors costs the same on 10⁷ rows as on 10 — no
// index seek per sensor into a database far larger than SQLite's page cache (that took 0.6 s per
// request on a 10⁷-row file in `npm run bench`) — and the hot path pays one Map lookup per reading.
import type { Reading } from '../decoders/types.js';
import { otherReadings, type BatchOutcome, type IncomingMessage } from '../store/reading-store.js';
import type { LastReading } from '../store/sensor-queries.js';
import { parseMicrosUTC } from '../store/time.js';

/** The values the API shows (a Reading from the decoders, or a row from the database). */
export type ReadingValues = Omit<LastReading, 'recordWrittenUTC'>;

export interface LastSeen {
  micros: number;
  values: ReadingValues;
  location: string | null;
}

export class LastReadings {
  private readonly bySensor = new Map<string, LastSeen>();

  /**
   * The database's answer at start (SensorQueries.everyLastReading()). `keepNewer`: the answer
   * came asynchronously (PostgreSQL) while the observer was attached; what it noted since is newer.
   */
  seed(rows: ReadonlyArray<LastReading & { sensorName: string; location: string | null }>, keepNewer = false): void {
    if (!keepNewer) this.bySensor.clear();
    for (const r of rows) {
      const micros = parseMicrosUTC(r.recordWrittenUTC);
      const seen = this.bySensor.get(r.sensorName);
      if (seen !== undefined && seen.micros >= micros) {
        if (seen.location === null) seen.location = r.location;
        continue;
      }
      this.bySensor.set(r.sensorName, { micros, values: r, location: r.location });
    }
  }

  /**
   * A commit observer: the batch's readings are stored now. (A redelivery the store skipped as a
   * duplicate moves "last seen" to its arrival; its values are those already stored.)
   */
  readonly observe = (_ms: number, items: readonly IncomingMessage[]): void => {
    for (const item of items) {
      const result = item.result;
      if (result.kind === 'reading') this.note(result.reading, item.receivedMicros);
      else if (result.kind !== 'rejection') {
        // Several readings, or a part stored as its own row: the store's own rule says which.
        for (const r of otherReadings(result, this.scratch)) this.note(r, item.receivedMicros);
      }
    }
  };

  /** otherReadings() counts what it skips; those counts are the writer's business, not ours. */
  private readonly scratch: BatchOutcome = { stored: 0, rejected: 0, duplicates: 0, ignored: 0, sensorRows: 0 };

  private note(r: Reading, micros: number): void {
    const seen = this.bySensor.get(r.sensorName);
    if (seen === undefined) this.bySensor.set(r.sensorName, { micros, values: r, location: r.location ?? null });
    else if (micros >= seen.micros) {
      seen.micros = micros;
      seen.values = r;
      if (r.location !== undefined) seen.location = r.location;
    }
  }

  get(name: string): LastSeen | undefined {
    return this.bySensor.get(name);
  }

  names(): IterableIterator<string> {
    return this.bySensor.keys();
  }
}
