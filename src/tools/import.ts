// `import <file>`: readings (and sensor metadata rows) from an original listener's database, one
// of our gzipped archives or a CSV written by `export`, merged into the -d database. A row whose
// (sensorName, recordWrittenUTC) is already there is skipped, so running it twice adds nothing
// and an import beside a running listener never stores a reading twice. Prints what it added and
// skipped; a CSV row it cannot use is reported by line number and the rest is imported.
// Rejected messages are not imported: they have no key that would make a second run harmless.
import { ConfigError } from '../config.js';
import { READINGS_TABLE, SENSOR_TABLE } from '../store/schema.js';
import type { ExportRow } from './export.js';
import { importCsv, looksLikeExportCsv } from './import-csv.js';
import { ImportTarget, type MergeCounts, type SensorRow } from './import-target.js';
import { startProgress } from './progress.js';
import { fileKind, openReadingSource } from './reading-source.js';

const PAGE_ROWS = 5000;

export interface ImportResult {
  readings: MergeCounts;
  sensorRows: MergeCounts;
  /** CSV rows that could not be imported: line number and reason. */
  badRows: Array<{ line: number; reason: string }>;
  kind: 'database' | 'archive' | 'csv';
}

export interface ImportOptions {
  file: string;
  dbFile: string;
  /** Where progress and bad rows are reported (stderr). */
  progressStream?: NodeJS.WriteStream;
  onBadRow?: (line: number, reason: string) => void;
}

export async function importFile(options: ImportOptions): Promise<ImportResult> {
  const kind = fileKind(options.file);
  if (kind === 'other') {
    if (!looksLikeExportCsv(options.file)) {
      throw new ConfigError(`${options.file} is neither a listener database, a gzipped archive nor a CSV from export (header line with recordWrittenUTC and sensorName)`);
    }
    const target = ImportTarget.open(options.dbFile);
    try {
      return { kind: 'csv', sensorRows: { added: 0, skipped: 0 }, ...(await importCsv(options.file, target, options)) };
    } finally {
      target.close();
    }
  }
  const source = await openReadingSource(options.file);
  try {
    const target = ImportTarget.open(options.dbFile);
    try {
      const db = source.db;
      const hasSensorTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(SENSOR_TABLE) !== undefined;
      const total = db.prepare(`SELECT COUNT(*) FROM ${READINGS_TABLE}`).pluck().get() as number;
      const progress = startProgress('import', total, 'readings', 100_000, options.progressStream);
      const readings: MergeCounts = { added: 0, skipped: 0 };
      // Pages by rowid: each page is one short read of the source and one short write of the target.
      const page = db.prepare(
        `SELECT rowid AS id, recordWrittenUTC, sensorName, temperatureF, relHumidityPercent, dewPointF, battVoltage, battPercent, apRSSI
           FROM ${READINGS_TABLE} WHERE rowid > ? ORDER BY rowid LIMIT ${PAGE_ROWS}`,
      );
      let rows = page.all(0) as Array<ExportRow & { id: number }>;
      while (rows.length > 0) {
        const c = target.addReadings(rows);
        readings.added += c.added;
        readings.skipped += c.skipped;
        progress.update(readings.added + readings.skipped);
        rows = page.all(rows[rows.length - 1]!.id) as typeof rows;
      }
      progress.stop();
      const sensorRows = hasSensorTable
        ? target.addSensorRows(
            db.prepare(`SELECT recordWrittenUTC, sensorName, location, MACaddress, softwareVersion FROM ${SENSOR_TABLE}`).all() as SensorRow[],
          )
        : { added: 0, skipped: 0 };
      return { kind: source.kind, readings, sensorRows, badRows: [] };
    } finally {
      target.close();
    }
  } finally {
    source.close();
  }
}

/** The summary lines `import` prints. */
export function formatImportResult(file: string, dbFile: string, r: ImportResult): string[] {
  const lines = [
    `imported ${file} (${r.kind === 'csv' ? 'CSV' : r.kind}) into ${dbFile}:`,
    `  readings: ${r.readings.added} added, ${r.readings.skipped} skipped (already there)`,
  ];
  if (r.kind !== 'csv') lines.push(`  sensor rows: ${r.sensorRows.added} added, ${r.sensorRows.skipped} skipped (already there)`);
  if (r.badRows.length > 0) lines.push(`  ${r.badRows.length} CSV row(s) not imported (listed above with their line numbers)`);
  return lines;
}
