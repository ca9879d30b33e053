// The availability table in PostgreSQL (-d postgres://… with --availability-topic): a connection of
// its own (one pg Client runs one query at a time; the writer's stays free for readings), one
// transaction per flush; write() resolves only after COMMIT, so a change is acknowledged only once
// it is stored. A lost connection fails the flush (the tracker retries) and is made anew next time.
import pg from 'pg';
import type { Logger } from '../logging/types.js';
import { redactError } from '../store/postgres/pg-store.js';
import { PG_AVAILABILITY_DDL } from '../store/postgres/schema.js';
import type { AvailabilityRow, AvailabilityStorage, DeviceAvailability } from './availability-tracker.js';

export class PgAvailability implements AvailabilityStorage {
  private client: pg.Client | undefined;

  constructor(
    private readonly url: string,
    private readonly log?: Logger,
  ) {}

  async load(): Promise<Array<{ device: string } & DeviceAvailability>> {
    const c = await this.connect();
    await this.query(c, PG_AVAILABILITY_DDL);
    const r = await this.query<{ device: string } & DeviceAvailability>(
      c,
      `SELECT DISTINCT ON ("device") "device", "changedUTC", "state", "topic" FROM "availability" ORDER BY "device", "changedUTC" DESC`,
    );
    return r.rows;
  }

  async write(rows: readonly AvailabilityRow[]): Promise<void> {
    const c = await this.connect();
    try {
      await c.query('BEGIN');
      await c.query(
        `INSERT INTO "availability" ("device", "changedUTC", "state", "topic")
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
           ON CONFLICT ("device", "changedUTC") DO UPDATE SET "state" = EXCLUDED."state", "topic" = EXCLUDED."topic"`,
        [rows.map((r) => r.device), rows.map((r) => r.change.changedUTC), rows.map((r) => r.change.state), rows.map((r) => r.change.topic)],
      );
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      this.drop(c);
      throw new Error(`PostgreSQL: ${redactError(err, this.url)}`);
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async query<T extends pg.QueryResultRow>(c: pg.Client, sql: string): Promise<pg.QueryResult<T>> {
    try {
      return await c.query<T>(sql);
    } catch (err) {
      this.drop(c);
      throw new Error(`PostgreSQL: ${redactError(err, this.url)}`);
    }
  }

  private drop(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = undefined;
    c.end().catch(() => undefined);
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, application_name: 'mqtt-iot-listener availability' });
    c.on('error', (err) => {
      this.log?.warn(`PostgreSQL availability connection lost: ${redactError(err, this.url)}`);
      this.drop(c);
    });
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => undefined);
      throw new Error(`PostgreSQL: ${redactError(err, this.url)}`);
    }
    this.client = c;
    return c;
  }
}
