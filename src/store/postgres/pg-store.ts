// The PostgreSQL side of the write path (--db postgres://…): the same promise as the SQLite store,
// one transaction per batch, and the caller acknowledges only after writeBatch()'s promise resolved.
// Rows go in with multi-row INSERT … SELECT FROM unnest(…) (an order of magnitude faster than a
// statement per row). The usual batch is ONE statement: every table's insert is a data-modifying
// CTE of one named (prepared once per connection) statement, committed on its own, so a batch
// costs one round trip and one WAL flush (bench: fewer round trips is what a loaded machine
// rewards). Should a reading's (sensorName, recordWrittenUTC) be taken already (another listener
// of the share group, the same microsecond), that statement fails whole and the batch goes the
// slow way: BEGIN, INSERT … ON CONFLICT DO NOTHING, the taken readings moved on by 1 µs and
// inserted again in the same transaction, as in SQLite, COMMIT.
// A lost connection fails the batch (nothing acknowledged); the next attempt connects anew.
import pg from 'pg';
import type { Logger } from '../../logging/types.js';
import type { Reading } from '../../decoders/index.js';
import { messageDigest, otherReadings, rejectPayload, type BatchOutcome, type HeldQos2Message, type IncomingMessage } from '../reading-store.js';
import { formatMicrosUTC } from '../time.js';
import { maskUrlPassword } from '../../config.js';
import { ensurePgSchema } from './schema.js';
import {
  INSERT_READINGS, INSERT_REJECTS, INSERT_SENSOR_ROWS, LEDGER_KEEP_BATCHES, PRUNE_WHERE, readingColumns, sensorColumns,
  type RejectColumns, type SensorMeta, type SensorRow,
} from './batch-sql.js';

export interface PgStoreOptions {
  /** postgres://user:password@host:port/db (password also from PGPASSWORD or ~/.pgpass). */
  url: string;
  /** Our MQTT client id: the ledger and the QoS 2 store are per session. */
  clientId: string;
  log?: Logger;
  /** Connection attempt limit, ms. */
  connectTimeoutMs?: number;
}

const MAX_PK_BUMPS = 1000;
const UNIQUE_VIOLATION = '23505';

export class PgReadingStore {
  private client: pg.Client | undefined;
  private broken = false;
  private readonly sensorMeta = new Map<string, SensorMeta>();
  private readonly lastMicros = new Map<string, number>();
  private readonly deliveries = new Map<number, string>();
  private readonly held = new Map<number, HeldQos2Message>();
  private batchesSincePrune = 0;
  private opened = false;

  constructor(private readonly options: PgStoreOptions) {}

  /** For logs: the server and database, never the password. */
  get description(): string {
    return maskUrlPassword(this.options.url);
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /** Connects, creates the schema if missing, loads the caches. Throws if the server cannot be reached. */
  async open(): Promise<void> {
    if (this.opened) return;
    const client = await this.connect();
    await ensurePgSchema(client);
    await this.loadCaches(client);
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => undefined);
  }

  /** One transaction for the whole batch; rejects (and commits nothing) on any failure. */
  async writeBatch(items: readonly IncomingMessage[]): Promise<BatchOutcome> {
    const client = await this.connect();
    const staged = { meta: new Map<string, SensorMeta>(), micros: new Map<string, number>(), deliveries: new Map<number, string>(), released: [] as number[] };
    const outcome: BatchOutcome = { stored: 0, rejected: 0, duplicates: 0, ignored: 0, sensorRows: 0 };
    const readings: Array<{ r: Reading; micros: number }> = [];
    const rejects: RejectColumns = {
      at: [], topic: [], payload: [], encoding: [], bytes: [], reason: [],
    };
    const ledger: Array<[number, string]> = [];
    const stage = (r: Reading, receivedMicros: number): void => {
      const last = staged.micros.get(r.sensorName) ?? this.lastMicros.get(r.sensorName) ?? -1;
      const micros = Math.max(receivedMicros, last + 1);
      staged.micros.set(r.sensorName, micros);
      readings.push({ r, micros });
    };
    for (const item of items) {
      if (item.qos === 2 && item.packetId !== undefined) staged.released.push(item.packetId);
      if (item.packetId !== undefined) {
        const digest = messageDigest(item.topic, item.payload);
        if (item.dup && (staged.deliveries.get(item.packetId) ?? this.deliveries.get(item.packetId)) === digest) {
          outcome.duplicates++;
          continue;
        }
        staged.deliveries.set(item.packetId, digest);
        ledger.push([item.packetId, digest]);
      }
      if (item.result.kind === 'rejection') {
        const p = rejectPayload(item.payload);
        rejects.at.push(formatMicrosUTC(item.receivedMicros));
        rejects.topic.push(item.topic);
        rejects.payload.push(p.text);
        rejects.encoding.push(p.encoding);
        rejects.bytes.push(item.payload.length);
        rejects.reason.push(item.result.reason);
        outcome.rejected++;
        continue;
      }
      if (item.result.kind === 'reading') stage(item.result.reading, item.receivedMicros);
      else for (const r of otherReadings(item.result, outcome)) stage(r, item.receivedMicros);
    }
    const sensorRows = this.sensorRowsOf(readings, staged.meta);
    try {
      await this.writeInOneStatement(client, readings, sensorRows, rejects, ledger, staged.released);
      outcome.sensorRows = sensorRows.length;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      staged.meta.clear(); // the slow way stages the sensor rows again, after moving taken timestamps on
      outcome.sensorRows = await this.writeInTransaction(client, readings, rejects, ledger, staged);
    }
    outcome.stored = readings.length;
    if (readings.length > 0) outcome.lastSensor = readings[readings.length - 1]!.r.sensorName;
    for (const [k, v] of staged.meta) this.sensorMeta.set(k, v);
    for (const [k, v] of staged.micros) this.lastMicros.set(k, v);
    for (const [k, v] of staged.deliveries) this.deliveries.set(k, v);
    for (const id of staged.released) this.held.delete(id);
    return outcome;
  }

  /** QoS 2 messages about to be acknowledged with PUBREC: committed first (rejects on failure). */
  async holdQos2(messages: readonly HeldQos2Message[]): Promise<void> {
    const client = await this.connect();
    await client.query(
      `INSERT INTO "qos2_incoming" ("clientId", "packetId", "topic", "payload", "receivedMicros", "dup", "retain")
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bytea[], $5::bigint[], $6::bool[], $7::bool[])
         ON CONFLICT ("clientId", "packetId") DO UPDATE SET "topic" = EXCLUDED."topic", "payload" = EXCLUDED."payload",
           "receivedMicros" = EXCLUDED."receivedMicros", "dup" = EXCLUDED."dup", "retain" = EXCLUDED."retain"`,
      [
        this.options.clientId,
        messages.map((m) => m.packetId),
        messages.map((m) => m.topic),
        messages.map((m) => m.payload),
        messages.map((m) => m.receivedMicros),
        messages.map((m) => m.dup),
        messages.map((m) => m.retain),
      ],
    );
    for (const m of messages) this.held.set(m.packetId, m);
  }

  /** Answered from memory (mirrors qos2_incoming for our client id). */
  heldQos2(packetId: number): HeldQos2Message | undefined {
    return this.held.get(packetId);
  }

  allHeldQos2(): HeldQos2Message[] {
    return [...this.held.values()].sort((a, b) => a.receivedMicros - b.receivedMicros);
  }

  private async insertReadings(client: pg.Client, readings: Array<{ r: Reading; micros: number }>, stagedMicros: Map<string, number>): Promise<void> {
    let pending = readings;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > MAX_PK_BUMPS) throw new Error(`could not find a free timestamp for sensor ${pending[0]!.r.sensorName}`);
      const res = await client.query<{ sensorName: string; recordWrittenUTC: string }>(
        `${INSERT_READINGS}
           SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::int[], $8::text[])
           ON CONFLICT DO NOTHING RETURNING "sensorName", "recordWrittenUTC"`,
        readingColumns(pending),
      );
      if (res.rowCount === pending.length) return;
      // Keys taken (by another listener, or earlier rows): move those readings on by 1 µs and retry.
      const inserted = new Set(res.rows.map((row) => `${row.sensorName}\0${row.recordWrittenUTC}`));
      const next: Array<{ r: Reading; micros: number }> = [];
      for (const x of pending) {
        if (inserted.has(`${x.r.sensorName}\0${formatMicrosUTC(x.micros)}`)) continue;
        const micros = Math.max(x.micros + 1, (stagedMicros.get(x.r.sensorName) ?? -1) + 1);
        x.micros = micros;
        stagedMicros.set(x.r.sensorName, micros);
        next.push(x);
      }
      pending = next;
    }
  }

  /** The slow way (a reading's key was taken): one transaction, taken timestamps moved on. Resolves to the sensor rows written. */
  private async writeInTransaction(
    client: pg.Client,
    readings: Array<{ r: Reading; micros: number }>,
    rejects: RejectColumns,
    ledger: ReadonlyArray<[number, string]>,
    staged: { meta: Map<string, SensorMeta>; micros: Map<string, number>; released: number[] },
  ): Promise<number> {
    try {
      await client.query('BEGIN');
      if (staged.released.length > 0) {
        await client.query('DELETE FROM "qos2_incoming" WHERE "clientId" = $1 AND "packetId" = ANY($2::int[])', [this.options.clientId, staged.released]);
      }
      if (rejects.at.length > 0) {
        await client.query(
          `${INSERT_REJECTS}
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])`,
          [rejects.at, rejects.topic, rejects.payload, rejects.encoding, rejects.bytes, rejects.reason],
        );
      }
      await this.insertReadings(client, readings, staged.micros);
      const sensorRows = this.sensorRowsOf(readings, staged.meta);
      await this.insertSensorRows(client, sensorRows);
      if (ledger.length > 0) {
        await client.query('INSERT INTO "delivery_ledger" ("clientId", "committedUTC", "entries") VALUES ($1, $2, $3)', [
          this.options.clientId,
          formatMicrosUTC(Date.now() * 1000),
          JSON.stringify(ledger),
        ]);
        if (this.pruneDue()) await client.query(`DELETE FROM "delivery_ledger" WHERE ${PRUNE_WHERE('$1')}`, [this.options.clientId]);
      }
      await client.query('COMMIT');
      return sensorRows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Every 100th batch with ledger entries also deletes the entries past the last LEDGER_KEEP_BATCHES. */
  private pruneDue(): boolean {
    if (++this.batchesSincePrune < 100) return false;
    this.batchesSincePrune = 0;
    return true;
  }

  /**
   * The whole batch as one statement (autocommit: one round trip, one commit); nothing to write,
   * no statement. Rejects with a unique violation, having written nothing, when a reading's key is taken.
   */
  private async writeInOneStatement(
    client: pg.Client,
    readings: ReadonlyArray<{ r: Reading; micros: number }>,
    sensorRows: readonly SensorRow[],
    rejects: RejectColumns,
    ledger: ReadonlyArray<[number, string]>,
    released: readonly number[],
  ): Promise<void> {
    const values: unknown[] = [this.options.clientId];
    const ctes: string[] = [];
    const names: string[] = [];
    const arg = (v: unknown): string => `$${values.push(v)}`;
    if (readings.length > 0) {
      names.push('r');
      const cols = readingColumns(readings);
      ctes.push(`r AS (${INSERT_READINGS} SELECT * FROM unnest(${arg(cols[0])}::text[], ${arg(cols[1])}::float8[], ${arg(cols[2])}::float8[],
        ${arg(cols[3])}::float8[], ${arg(cols[4])}::float8[], ${arg(cols[5])}::float8[], ${arg(cols[6])}::int[], ${arg(cols[7])}::text[]))`);
    }
    if (sensorRows.length > 0) {
      names.push('s');
      const c = sensorColumns(sensorRows);
      ctes.push(`s AS (${INSERT_SENSOR_ROWS} SELECT * FROM unnest(${arg(c[0])}::text[], ${arg(c[1])}::text[], ${arg(c[2])}::text[], ${arg(c[3])}::text[], ${arg(c[4])}::text[]) ON CONFLICT DO NOTHING)`);
    }
    if (rejects.at.length > 0) {
      names.push('j');
      ctes.push(`j AS (${INSERT_REJECTS} SELECT * FROM unnest(${arg(rejects.at)}::text[], ${arg(rejects.topic)}::text[], ${arg(rejects.payload)}::text[],
        ${arg(rejects.encoding)}::text[], ${arg(rejects.bytes)}::int[], ${arg(rejects.reason)}::text[]))`);
    }
    if (released.length > 0) {
      names.push('q');
      ctes.push(`q AS (DELETE FROM "qos2_incoming" WHERE "clientId" = $1 AND "packetId" = ANY(${arg(released)}::int[]))`);
    }
    if (ledger.length > 0) {
      names.push('l');
      ctes.push(`l AS (INSERT INTO "delivery_ledger" ("clientId", "committedUTC", "entries") VALUES ($1, ${arg(formatMicrosUTC(Date.now() * 1000))}, ${arg(JSON.stringify(ledger))}))`);
      if (this.pruneDue()) {
        names.push('p');
        // The CTEs see the table as it was before the statement: the new entry is not deleted.
        ctes.push(`p AS (DELETE FROM "delivery_ledger" WHERE ${PRUNE_WHERE('$1')})`);
      }
    }
    if (ctes.length === 0) return;
    // Named: PostgreSQL parses and plans each shape once per connection, then only binds.
    await client.query({ name: `mil-batch-${names.join('')}`, text: `WITH ${ctes.join(', ')} SELECT 1`, values });
  }

  private sensorRowsOf(readings: ReadonlyArray<{ r: Reading; micros: number }>, staged: Map<string, SensorMeta>): SensorRow[] {
    const rows: SensorRow[] = [];
    for (const { r, micros } of readings) {
      if (r.location === undefined && r.macAddress === undefined && r.softwareVersion === undefined) continue;
      const meta: SensorMeta = { location: r.location ?? null, mac: r.macAddress ?? null, version: r.softwareVersion ?? null };
      const last = staged.get(r.sensorName) ?? this.sensorMeta.get(r.sensorName);
      if (last && last.location === meta.location && last.mac === meta.mac && last.version === meta.version) continue;
      staged.set(r.sensorName, meta);
      rows.push({ at: formatMicrosUTC(micros), name: r.sensorName, meta });
    }
    return rows;
  }

  private async insertSensorRows(client: pg.Client, rows: readonly SensorRow[]): Promise<void> {
    if (rows.length === 0) return;
    await client.query(
      `${INSERT_SENSOR_ROWS} SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
      sensorColumns(rows),
    );
  }

  private async loadCaches(client: pg.Client): Promise<void> {
    const meta = await client.query<{ name: string; location: string | null; mac: string | null; version: string | null }>(
      `SELECT DISTINCT ON ("sensorName") "sensorName" AS name, "location", "MACaddress" AS mac, "softwareVersion" AS version
         FROM "ECCTempHumSensor" ORDER BY "sensorName", "recordWrittenUTC" DESC`,
    );
    this.sensorMeta.clear();
    for (const r of meta.rows) this.sensorMeta.set(r.name, { location: r.location, mac: r.mac, version: r.version });
    const ledger = await client.query<{ entries: string }>(
      `SELECT "entries" FROM "delivery_ledger" WHERE "clientId" = $1 ORDER BY "batchId" DESC LIMIT ${LEDGER_KEEP_BATCHES}`,
      [this.options.clientId],
    );
    this.deliveries.clear();
    for (const row of ledger.rows.reverse()) {
      try {
        for (const [id, digest] of JSON.parse(row.entries) as Array<[number, string]>) this.deliveries.set(id, digest);
      } catch {
        /* a damaged ledger row only weakens duplicate suppression for that batch */
      }
    }
    const held = await client.query<{ packetId: number; topic: string; payload: Buffer; receivedMicros: string; dup: boolean; retain: boolean }>(
      'SELECT "packetId", "topic", "payload", "receivedMicros", "dup", "retain" FROM "qos2_incoming" WHERE "clientId" = $1',
      [this.options.clientId],
    );
    this.held.clear();
    for (const h of held.rows) {
      this.held.set(h.packetId, { packetId: h.packetId, topic: h.topic, payload: h.payload, receivedMicros: Number(h.receivedMicros), dup: h.dup, retain: h.retain });
    }
  }

  /** The open connection, or a new one when there is none or the last one broke. */
  private async connect(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    const old = this.client;
    this.client = undefined;
    if (old) old.end().catch(() => undefined);
    const client = new pg.Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 10_000,
      application_name: `mqtt-iot-listener ${this.options.clientId}`.slice(0, 63),
    });
    // A dropped connection is noticed here and by the next query; without a listener it would crash the process.
    client.on('error', (err) => {
      this.broken = true;
      this.options.log?.warn(`PostgreSQL connection lost: ${redactError(err, this.options.url)}`);
    });
    client.on('end', () => {
      if (this.client === client) this.broken = true;
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new Error(`cannot connect to ${this.description}: ${redactError(err, this.options.url)}`);
    }
    this.client = client;
    this.broken = false;
    return client;
  }
}

/** An error's message with the URL's password taken out (pg may quote parts of the connection string). */
export function redactError(err: unknown, url: string): string {
  let text = err instanceof Error ? err.message : String(err);
  try {
    // The URL itself, or its user:password@ part, is all a driver error could quote; replacing
    // every occurrence of a (short) password would garble host names and words instead.
    const u = new URL(url);
    text = text.split(url).join(maskUrlPassword(url));
    for (const pw of new Set([u.password, decodeURIComponent(u.password)])) {
      if (pw) text = text.split(`:${pw}@`).join(':****@');
    }
  } catch {
    /* not a URL: nothing to take out */
  }
  return text;
}
