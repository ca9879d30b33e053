// `export`: readings out of a database or a gzipped archive as CSV (the default), JSON or NDJSON,
// to stdout or a file. It streams: rows are read in pages of PAGE_ROWS along the primary-key index
// (sensor, then time), each page in its own short read transaction, and the next page is read only
// when the output has taken the last one (stream back-pressure). So memory stays flat however big
// the database, a slow reader (`| less`) holds no snapshot that would keep a running listener's WAL
// from being checkpointed, and output into a closed pipe stops the reading at once.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigError } from '../config.js';
import { errorText } from '../files.js';
import { listArchives } from '../store/database-archiver.js';
import { READINGS_TABLE } from '../store/schema.js';
import { sensorNames } from '../store/sensor-names.js';
import { isClosedPipe } from './closed-pipe.js';
import { fileKind, openReadingSource, type ReadingSource } from './reading-source.js';

export type ExportFormat = 'csv' | 'json' | 'ndjson';

/** The columns of every export, in this order; `import` reads CSV files with this header. */
export const EXPORT_COLUMNS = [
  'recordWrittenUTC',
  'sensorName',
  'temperatureF',
  'relHumidityPercent',
  'dewPointF',
  'battVoltage',
  'battPercent',
  'apRSSI',
] as const;

export type ExportRow = { recordWrittenUTC: string; sensorName: string } & Record<
  'temperatureF' | 'relHumidityPercent' | 'dewPointF' | 'battVoltage' | 'battPercent' | 'apRSSI',
  number | null
>;

const PAGE_ROWS = 2000;

export interface ExportOptions {
  /** Databases or archives, exported one after the other. */
  sources: readonly string[];
  format: ExportFormat;
  /** Sensor names; all sensors when empty. */
  sensors: readonly string[];
  /** Database text form, inclusive. */
  from?: string;
  /** Database text form, exclusive. */
  to?: string;
  /** A file, written under a temporary name and renamed when complete; stdout when absent. */
  out?: string;
}

export interface ExportResult {
  rows: number;
  /** The reader of stdout went away before the end (`| head`). */
  closedPipe: boolean;
}

/** Every matching row, a page at a time; each page is one short read of the database. */
export function* exportRows(db: BetterSqlite3.Database, sensors: readonly string[], from = '', to = '\uffff'): Generator<ExportRow[]> {
  const cols = EXPORT_COLUMNS.join(', ');
  const first = db.prepare(
    `SELECT ${cols} FROM ${READINGS_TABLE} WHERE sensorName = ? AND recordWrittenUTC >= ? AND recordWrittenUTC < ?
      ORDER BY recordWrittenUTC LIMIT ${PAGE_ROWS}`,
  );
  const next = db.prepare(
    `SELECT ${cols} FROM ${READINGS_TABLE} WHERE sensorName = ? AND recordWrittenUTC > ? AND recordWrittenUTC < ?
      ORDER BY recordWrittenUTC LIMIT ${PAGE_ROWS}`,
  );
  const names = sensors.length > 0 ? [...new Set(sensors)].sort() : sensorNames(db);
  for (const name of names) {
    let page = first.all(name, from, to) as ExportRow[];
    while (page.length > 0) {
      yield page;
      if (page.length < PAGE_ROWS) break;
      page = next.all(name, page[page.length - 1]!.recordWrittenUTC, to) as ExportRow[];
    }
  }
}

/** The pages of every source in turn; a source is opened (an archive unpacked) only when its turn comes. */
async function* sourcePages(first: ReadingSource, rest: readonly string[], options: ExportOptions, counter: { rows: number }): AsyncGenerator<ExportRow[]> {
  let source: ReadingSource | undefined = first;
  for (let i = 0; source; source = i < rest.length ? await openReadingSource(rest[i++]!) : undefined) {
    try {
      for (const page of exportRows(source.db, options.sensors, options.from, options.to)) {
        counter.rows += page.length;
        yield page;
      }
    } finally {
      source.close();
    }
  }
}

/** Pages into single records for csv-stringify; back-pressure still holds per page. */
function records(): Transform {
  return new Transform({
    objectMode: true,
    transform(page: ExportRow[], _enc, done) {
      for (const r of page) this.push(r);
      done();
    },
  });
}

async function* jsonText(pages: AsyncIterable<ExportRow[]>, format: 'json' | 'ndjson'): AsyncGenerator<string> {
  let rows = 0;
  if (format === 'json') yield '[';
  for await (const page of pages) {
    const lines = page.map((r) => JSON.stringify(r));
    if (format === 'json') yield `${rows === 0 ? '\n' : ',\n'}${lines.join(',\n')}`;
    else yield `${lines.join('\n')}\n`;
    rows += page.length;
  }
  if (format === 'json') yield rows === 0 ? ']\n' : '\n]\n';
}

/**
 * Streams the export into `out` (stdout or a file). A closed stdout ends it quietly. Every source
 * is checked to be a database or gzipped file before anything is written, and the first is opened.
 */
export async function exportReadings(options: ExportOptions, stdout: Writable = process.stdout): Promise<ExportResult> {
  const [firstFile, ...rest] = options.sources;
  if (firstFile === undefined) throw new ConfigError('nothing to export from');
  for (const f of rest) if (fileKind(f) === 'other') throw new ConfigError(`${f} is neither a listener database nor a gzipped database archive`);
  const first = await openReadingSource(firstFile);
  const counter = { rows: 0 };
  const partial = options.out !== undefined ? `${options.out}.partial` : undefined;
  const pages = sourcePages(first, rest, options, counter);
  try {
    const body =
      options.format === 'csv'
        ? [Readable.from(pages), records(), stringify({ header: true, columns: [...EXPORT_COLUMNS] })]
        : [Readable.from(jsonText(pages, options.format))];
    if (partial !== undefined) {
      let file: Writable;
      try {
        file = createWriteStream(partial, { flags: 'w' });
        await new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject));
      } catch (err) {
        throw new ConfigError(`cannot write ${options.out}: ${errorText(err)}`);
      }
      await pipeline([...body, file]);
      renameSync(partial, options.out!);
    } else {
      try {
        await pipeline([...body, stdout], { end: false });
      } catch (err) {
        if (isClosedPipe(err)) return { rows: counter.rows, closedPipe: true };
        throw err;
      }
    }
    return { rows: counter.rows, closedPipe: false };
  } catch (err) {
    if (partial !== undefined) rmSync(partial, { force: true });
    throw err;
  } finally {
    await pages.return(undefined); // closes the open source when the stream stopped early
    first.close();
  }
}

/**
 * With --with-archives: the archives next to the database whose time span meets [from, to)
 * (their names give first and last minute), oldest first, then the database itself.
 */
export function sourcesWithArchives(dbFile: string, from = '', to = '\uffff'): string[] {
  const archives = listArchives(dbFile).filter((e) => `${e.last}:59.999999` >= from && `${e.first}:00.000000` < to);
  return [...archives.map((e) => e.file), dbFile];
}
