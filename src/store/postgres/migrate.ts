// `migrate --from <SQLite file or gzipped archive> --to postgres://…`: copies readings, sensor rows
// and rejected messages into PostgreSQL, skipping what is already there, so it can be run again
// (after an interrupted run, or to bring over the archives one by one) and adds nothing twice.
// The source is read in rowid order, 5 000 rows per PostgreSQL transaction; memory stays flat.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { ConfigError, maskUrlPassword } from '../../config.js';
import { exists } from '../../files.js';
import { gunzipFile } from '../../gzip.js';
import { ensurePgSchema } from './schema.js';
import { redactError } from './pg-store.js';

const CHUNK = 5000;

export interface MigrateResult {
  readings: { added: number; skipped: number };
  sensors: { added: number; skipped: number };
  rejected: { added: number; skipped: number };
}

export interface MigrateOptions {
  from: string;
  to: string;
  out: (line: string) => void;
  /** A progress bar (terminal) instead of a line every 10 %. */
  tty: boolean;
}

interface TableCopy {
  name: string;
  /** SELECT of the source columns in target order, keyed by rowid. */
  select: string;
  /** INSERT of one chunk (arrays in column order); returns the rows added. */
  insert: (client: pg.Client, columns: unknown[][]) => Promise<number>;
  width: number;
}

const TABLES: TableCopy[] = [
  {
    name: 'ECCTempHum',
    width: 8,
    select: `SELECT rowid AS _r, recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage, battPercent, apRSSI, sensorName
               FROM ECCTempHum WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK}`,
    insert: async (client, c) =>
      (
        await client.query(
          `INSERT INTO "ECCTempHum" ("recordWrittenUTC", "dewPointF", "temperatureF", "relHumidityPercent", "battVoltage", "battPercent", "apRSSI", "sensorName")
             SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::int[], $8::text[])
             ON CONFLICT DO NOTHING`,
          c,
        )
      ).rowCount ?? 0,
  },
  {
    name: 'ECCTempHumSensor',
    width: 5,
    select: `SELECT rowid AS _r, recordWrittenUTC, sensorName, location, MACaddress, softwareVersion
               FROM ECCTempHumSensor WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK}`,
    insert: async (client, c) =>
      (
        await client.query(
          `INSERT INTO "ECCTempHumSensor" ("recordWrittenUTC", "sensorName", "location", "MACaddress", "softwareVersion")
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
          c,
        )
      ).rowCount ?? 0,
  },
  {
    // No natural key: a row counts as there when time, topic, payload and reason all match.
    name: 'rejected_messages',
    width: 6,
    select: `SELECT rowid AS _r, receivedUTC, topic, payload, payloadEncoding, payloadBytes, reason
               FROM rejected_messages WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK}`,
    insert: async (client, c) =>
      (
        await client.query(
          `INSERT INTO "rejected_messages" ("receivedUTC", "topic", "payload", "payloadEncoding", "payloadBytes", "reason")
             SELECT u.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[]) AS u(t, topic, payload, enc, bytes, reason)
             WHERE NOT EXISTS (SELECT 1 FROM "rejected_messages" r WHERE r."receivedUTC" = u.t AND r."topic" IS NOT DISTINCT FROM u.topic
               AND r."payload" IS NOT DISTINCT FROM u.payload AND r."reason" = u.reason)`,
          c,
        )
      ).rowCount ?? 0,
  },
];

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  if (!exists(options.from)) throw new ConfigError(`migrate --from ${options.from}: no such file`);
  let tmp: string | undefined;
  let source = options.from;
  if (options.from.endsWith('.gz')) {
    tmp = mkdtempSync(join(tmpdir(), 'mil-migrate-'));
    source = join(tmp, basename(options.from, '.gz'));
    try {
      await gunzipFile(options.from, source);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw new ConfigError(`migrate --from ${options.from}: not a readable gzipped archive (${(err as Error).message})`);
    }
  }
  let db: BetterSqlite3.Database | undefined;
  const client = new pg.Client({ connectionString: options.to, application_name: 'mqtt-iot-listener migrate' });
  try {
    db = openSource(source, options.from);
    try {
      await client.connect();
    } catch (err) {
      throw new ConfigError(`migrate --to ${maskUrlPassword(options.to)}: cannot connect (${redactError(err, options.to)})`);
    }
    await ensurePgSchema(client);
    const result: MigrateResult = { readings: { added: 0, skipped: 0 }, sensors: { added: 0, skipped: 0 }, rejected: { added: 0, skipped: 0 } };
    const keys: Array<keyof MigrateResult> = ['readings', 'sensors', 'rejected'];
    for (let i = 0; i < TABLES.length; i++) {
      const table = TABLES[i]!;
      if (!hasTable(db, table.name)) continue;
      result[keys[i]!] = await copyTable(db, client, table, options);
    }
    return result;
  } finally {
    db?.close();
    await client.end().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

function openSource(file: string, shown: string): BetterSqlite3.Database {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    if (!hasTable(db, 'ECCTempHum')) throw new Error('it has no ECCTempHum table');
    return db;
  } catch (err) {
    db?.close();
    const why = (err as { code?: string }).code === 'SQLITE_NOTADB' ? 'not an SQLite database' : (err as Error).message;
    throw new ConfigError(`migrate --from ${shown}: cannot read it as a listener database (${why})`);
  }
}

function hasTable(db: BetterSqlite3.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

async function copyTable(db: BetterSqlite3.Database, client: pg.Client, table: TableCopy, options: MigrateOptions): Promise<{ added: number; skipped: number }> {
  // MAX(rowid) is an estimate of the row count that costs nothing on a 10⁷-row table.
  const total = Number((db.prepare(`SELECT MAX(rowid) AS n FROM ${table.name}`).get() as { n: number | null }).n ?? 0);
  const select = db.prepare(table.select).raw(true);
  const progress = new Progress(table.name, total, options);
  let last = 0;
  let added = 0;
  let seen = 0;
  for (let chunks = 0; chunks <= total / CHUNK + 1; chunks++) {
    const rows = select.all(last) as unknown[][];
    if (rows.length === 0) break;
    const columns: unknown[][] = Array.from({ length: table.width }, () => new Array<unknown>(rows.length));
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      for (let c = 0; c < table.width; c++) columns[c]![r] = row[c + 1] ?? null;
    }
    added += await table.insert(client, columns);
    seen += rows.length;
    last = Number(rows[rows.length - 1]![0]);
    progress.update(last);
  }
  progress.done(seen, added);
  return { added, skipped: seen - added };
}

/** A bar on a terminal; otherwise a plain line at every 10 % (scheduled tasks, logs). */
class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private nextTenth = 1;

  constructor(
    private readonly name: string,
    private readonly total: number,
    private readonly options: MigrateOptions,
  ) {
    if (options.tty && total > 0) {
      this.bar = new cliProgress.SingleBar({ format: `${name.padEnd(18)} [{bar}] {percentage}% | {value}/{total} rows | ETA {eta}s`, stream: process.stderr }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0);
    }
  }

  update(at: number): void {
    if (this.bar) {
      this.bar.update(Math.min(at, this.total));
      return;
    }
    while (this.total > 0 && at >= (this.total * this.nextTenth) / 10 && this.nextTenth < 10) {
      this.options.out(`${this.name}: ${this.nextTenth * 10} % (${at} of about ${this.total} rows)`);
      this.nextTenth++;
    }
  }

  done(seen: number, added: number): void {
    this.bar?.stop();
    this.options.out(`${this.name}: ${added} added, ${seen - added} already there`);
  }
}
