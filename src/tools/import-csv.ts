// The CSV side of `import`: a file written by `export` (header line naming the columns, in any
// order; extra columns are ignored). Rows are checked one by one; a row that cannot be a reading
// (no sensor, a time that is not a time, a value that is not a number, a broken CSV line) is
// reported with its line number and the rest is imported. Times are kept as written when they
// are in the database's own form, so a re-import finds them again; ISO 8601 (Excel, scripts) is
// turned into that form.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import { parseDecimal } from '../numbers.js';
import { formatMicrosUTC, parseMicrosUTC } from '../store/time.js';
import type { ExportRow } from './export.js';
import type { ImportTarget, MergeCounts } from './import-target.js';
import { startProgress } from './progress.js';
import { parseTimeArg } from './time-range.js';

const BATCH_ROWS = 2000;
const NUMBER_COLUMNS = ['temperatureF', 'relHumidityPercent', 'dewPointF', 'battVoltage', 'battPercent', 'apRSSI'] as const;

/** A text file whose first line is a CSV header naming at least recordWrittenUTC and sensorName. */
export function looksLikeExportCsv(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n);
    if (text.includes(0)) return false;
    const first = text.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
    const names = first.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    return names.includes('recordWrittenUTC') && names.includes('sensorName');
  } finally {
    closeSync(fd);
  }
}

/** The database's text form of a time written in a CSV cell, or undefined. */
function recordTime(text: string): string | undefined {
  if (!Number.isNaN(parseMicrosUTC(text))) return text;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = parseTimeArg(text, 0);
  return ms === undefined ? undefined : formatMicrosUTC(Math.round(ms * 1000));
}

/** A reading from a CSV record, or the reason it is none. */
export function rowFromRecord(record: Record<string, string | undefined>): ExportRow | string {
  const sensorName = (record['sensorName'] ?? '').trim();
  if (sensorName === '') return 'no sensorName';
  const time = (record['recordWrittenUTC'] ?? '').trim();
  const recordWrittenUTC = recordTime(time);
  if (recordWrittenUTC === undefined) return `recordWrittenUTC ${JSON.stringify(time)} is not a time (YYYY-MM-DD HH:MM:SS.ffffff, UTC)`;
  const row: Record<string, string | number | null> = { recordWrittenUTC, sensorName };
  for (const col of NUMBER_COLUMNS) {
    const cell = (record[col] ?? '').trim();
    if (cell === '') {
      row[col] = null;
      continue;
    }
    const n = parseDecimal(cell);
    if (n === undefined) return `${col} ${JSON.stringify(cell)} is not a number`;
    row[col] = n;
  }
  return row as ExportRow;
}

export interface CsvImportOptions {
  progressStream?: NodeJS.WriteStream;
  onBadRow?: (line: number, reason: string) => void;
}

export async function importCsv(
  file: string,
  target: ImportTarget,
  options: CsvImportOptions,
): Promise<{ readings: MergeCounts; badRows: Array<{ line: number; reason: string }> }> {
  const readings: MergeCounts = { added: 0, skipped: 0 };
  const badRows: Array<{ line: number; reason: string }> = [];
  const bad = (line: number, reason: string): void => {
    badRows.push({ line, reason });
    options.onBadRow?.(line, reason);
  };
  // The parser reports broken lines while it reads ahead of the records handed out: they wait
  // here, so every bad row is reported in line order.
  let broken: Array<{ line: number; reason: string }> = [];
  const reportBrokenBefore = (line: number): void => {
    if (broken.length === 0) return;
    const due = broken.filter((b) => b.line < line);
    broken = broken.filter((b) => b.line >= line);
    for (const b of due) bad(b.line, b.reason);
  };
  const progress = startProgress('import', statSync(file).size, 'bytes', 20_000_000, options.progressStream);
  const parser = createReadStream(file).pipe(
    parse({
      bom: true,
      columns: true,
      info: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined) => {
        const line = typeof err?.['lines'] === 'number' ? err['lines'] : 0;
        broken.push({ line, reason: err?.message.replace(/^Invalid Record Length: /, '') ?? 'not a CSV record' });
        return undefined;
      },
    }),
  );
  let batch: ExportRow[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const c = target.addReadings(batch);
    readings.added += c.added;
    readings.skipped += c.skipped;
    batch = [];
    progress.update(parser.info.bytes);
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    reportBrokenBefore(info.lines);
    const row = rowFromRecord(record);
    if (typeof row === 'string') bad(info.lines, row);
    else batch.push(row);
    if (batch.length >= BATCH_ROWS) flush();
  }
  reportBrokenBefore(Number.POSITIVE_INFINITY);
  flush();
  progress.update(statSync(file).size);
  progress.stop();
  return { readings, badRows };
}
