// What the status service reads from the database, whichever it is: SQLite (SensorReader, a
// read-only connection beside the writer) or PostgreSQL (PgSensorReader, a small pool beside the
// writer's connection). Methods may answer at once (SQLite) or later (PostgreSQL): the API awaits.
import type { LastReading } from '../store/sensor-queries.js';
import type { BucketField, BucketRow, ReadingRow } from './sensor-reader.js';

export type Awaitable<T> = T | Promise<T>;

export interface SensorReadSource {
  /** Every sensor's last reading and location, in name order (seeds LastReadings at start). */
  everyLastReading(): Awaitable<Array<LastReading & { sensorName: string; location: string | null }>>;
  /** Up to `limit` readings in [from, to] oldest first (`latest`: the newest ones); true if more matched. */
  eachReading(name: string, from: string, to: string, limit: number, latest: boolean, each: (row: ReadingRow) => void): Awaitable<boolean>;
  range(name: string, from: string, to: string): Awaitable<{ first: string | null; last: string | null; n: number }>;
  buckets(name: string, from: string, to: string, startEpochSeconds: number, widthSeconds: number, fields?: readonly BucketField[]): Awaitable<BucketRow[]>;
}

/** The database as /health and /metrics show it: where (never with a password) and how big. */
export interface DatabaseInfo {
  path: string;
  /** null when it cannot be asked now (PostgreSQL unreachable). */
  bytes: number | null;
  /** false when the database cannot be reached at all (checked beside the writer's own state). */
  reachable: boolean;
}
