// The status service's reads from PostgreSQL (-d postgres://…): a small pg.Pool of its own beside
// the writer's connection (one pg Client runs one query at a time, so readers never queue behind a
// commit). The same queries as SensorReader on the same quoted tables; recordWrittenUTC is TEXT in
// the 'YYYY-MM-DD HH:MM:SS.ffffff' form, so the range comparisons on text work as in SQLite, and
// every query is a seek or range scan on the ("sensorName", "recordWrittenUTC") primary key.
import pg from 'pg';
import type { Logger } from '../logging/types.js';
import { maskUrlPassword } from '../config.js';
import { redactError } from '../store/postgres/pg-store.js';
import type { LastReading } from '../store/sensor-queries.js';
import type { DatabaseInfo, SensorReadSource } from './read-source.js';
import { BUCKET_FIELDS, type BucketField, type BucketRow, type ReadingRow } from './sensor-reader.js';

const COLUMNS = '"recordWrittenUTC", "temperatureF", "relHumidityPercent", "dewPointF", "battVoltage", "battPercent", "apRSSI"';
const RANGE_WHERE = 'FROM "ECCTempHum" WHERE "sensorName" = $1 AND "recordWrittenUTC" >= $2 AND "recordWrittenUTC" <= $3';
/** Rows per round trip when streaming a long answer (the pool's connection is held meanwhile). */
const PAGE = 5000;

function bucketSql(fields: readonly BucketField[]): string {
  const aggregates = fields.map((f) => `, MIN("${f}") AS "${f}_min", MAX("${f}") AS "${f}_max", AVG("${f}")::float8 AS "${f}_mean"`).join('');
  // Whole seconds of the stored UTC text, as SQLite's unixepoch(). A timestamp WITHOUT time zone:
  // its epoch ignores the session's TimeZone (to_timestamp() would read the text as local time),
  // and the cast is cheaper than to_timestamp()'s format parsing.
  const epoch = `extract(epoch FROM left("recordWrittenUTC", 19)::timestamp)::bigint`;
  return `SELECT ((${epoch} - $4::bigint) / $5::bigint)::int AS bucket, COUNT(*)::int AS count${aggregates} ${RANGE_WHERE} GROUP BY 1 ORDER BY 1`;
}

export interface PgSensorReaderOptions {
  url: string;
  log?: Logger;
  /** Connections in the pool (default 3). */
  max?: number;
}

export class PgSensorReader implements SensorReadSource {
  private pool: pg.Pool | undefined;
  private bytes: number | null = null;

  constructor(private readonly o: PgSensorReaderOptions) {}

  open(): void {
    if (this.pool) return;
    const pool = new pg.Pool({ connectionString: this.o.url, max: this.o.max ?? 3, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000, application_name: 'mqtt-iot-listener http' });
    // An idle connection dropped by the server (restart) must not crash the process.
    pool.on('error', (err) => this.o.log?.debug(`PostgreSQL reader connection lost: ${redactError(err, this.o.url)}`));
    this.pool = pool;
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    await p?.end().catch(() => undefined);
  }

  private async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.pool) throw new Error('PgSensorReader is not open');
    try {
      return (await this.pool.query<T>(sql, params)).rows;
    } catch (err) {
      throw new Error(`PostgreSQL: ${redactError(err, this.o.url)}`);
    }
  }

  async everyLastReading(): Promise<Array<LastReading & { sensorName: string; location: string | null }>> {
    return this.query(
      `WITH RECURSIVE s(name) AS (
         SELECT MIN("sensorName") FROM "ECCTempHum"
         UNION ALL
         SELECT (SELECT MIN("sensorName") FROM "ECCTempHum" WHERE "sensorName" > s.name) FROM s WHERE s.name IS NOT NULL)
       SELECT s.name AS "sensorName", ${COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')},
         (SELECT m."location" FROM "ECCTempHumSensor" m WHERE m."sensorName" = s.name ORDER BY m."recordWrittenUTC" DESC LIMIT 1) AS "location"
       FROM s JOIN "ECCTempHum" r ON r."sensorName" = s.name
         AND r."recordWrittenUTC" = (SELECT MAX("recordWrittenUTC") FROM "ECCTempHum" WHERE "sensorName" = s.name)
       WHERE s.name IS NOT NULL ORDER BY s.name`,
    );
  }

  async eachReading(name: string, from: string, to: string, limit: number, latest: boolean, each: (row: ReadingRow) => void): Promise<boolean> {
    let start = from;
    let more = false;
    if (latest) {
      const nth = `SELECT "recordWrittenUTC" AS t ${RANGE_WHERE} ORDER BY "recordWrittenUTC" DESC LIMIT 1 OFFSET $4`;
      const [oldestKept] = await this.query<{ t: string }>(nth, [name, from, to, limit - 1]);
      if (oldestKept !== undefined) {
        more = (await this.query(nth, [name, from, to, limit])).length > 0;
        start = oldestKept.t;
      }
    }
    // Keyset pages: a 100 000-row answer never sits in memory at once.
    let n = 0;
    let after: string | undefined;
    for (;;) {
      const want = Math.min(PAGE, limit + 1 - n);
      const rows = after === undefined
        ? await this.query<ReadingRow>(`SELECT ${COLUMNS} ${RANGE_WHERE} ORDER BY "recordWrittenUTC" LIMIT $4`, [name, start, to, want])
        : await this.query<ReadingRow>(`SELECT ${COLUMNS} ${RANGE_WHERE} AND "recordWrittenUTC" > $5 ORDER BY "recordWrittenUTC" LIMIT $4`, [name, start, to, want, after]);
      for (const row of rows) {
        if (++n > limit) return true;
        each(row);
      }
      if (rows.length < want) return more;
      after = rows[rows.length - 1]!.recordWrittenUTC;
    }
  }

  async range(name: string, from: string, to: string): Promise<{ first: string | null; last: string | null; n: number }> {
    const [r] = await this.query<{ first: string | null; last: string | null; n: number }>(
      `SELECT MIN("recordWrittenUTC") AS first, MAX("recordWrittenUTC") AS last, COUNT(*)::int AS n ${RANGE_WHERE}`,
      [name, from, to],
    );
    return r ?? { first: null, last: null, n: 0 };
  }

  async buckets(name: string, from: string, to: string, startEpochSeconds: number, widthSeconds: number, fields: readonly BucketField[] = BUCKET_FIELDS): Promise<BucketRow[]> {
    return this.query<BucketRow>(bucketSql(fields), [name, from, to, Math.floor(startEpochSeconds), Math.floor(widthSeconds)]);
  }

  /** pg_database_size, or null (and unreachable) when the server does not answer. */
  async databaseInfo(): Promise<DatabaseInfo> {
    const path = maskUrlPassword(this.o.url);
    try {
      const [r] = await this.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes');
      this.bytes = Number(r!.bytes);
      return { path, bytes: this.bytes, reachable: true };
    } catch {
      return { path, bytes: null, reachable: false };
    }
  }

  /** The last size asked (for the metrics gauge, which cannot wait); asks anew in the background. */
  cachedBytes(): number {
    void this.databaseInfo();
    return this.bytes ?? 0;
  }
}
