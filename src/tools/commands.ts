// The data tools' subcommands — `export`, `import`, `support-bundle` — registered on the program
// by cli.ts with one call. Each only parses its flags here; the work is in its own module.
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, DEFAULTS, isPostgresUrl, type Config, type RawOptions } from '../config.js';
import { errorText } from '../files.js';
import { timeOption } from './time-range.js';

export interface ToolsIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface ToolsContext {
  io: ToolsIO;
  setExit: (code: number) => void;
  configFromCommand: (cmd: Command, warnings: string[]) => Config;
  rawOptions: (cmd: Command) => RawOptions;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The -d SQLite database; a PostgreSQL URL is refused (these tools read and write SQLite files). */
function dbOf(cmd: Command, what: string): string {
  const db = cmd.optsWithGlobals()['db'];
  const file = typeof db === 'string' ? db : DEFAULTS.dbFile;
  if (isPostgresUrl(file)) throw new ConfigError(`${what} works on SQLite databases; with PostgreSQL use its own tools (psql \\copy), or migrate to move an SQLite database there`);
  return file;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

export function addDataToolCommands(program: Command, ctx: ToolsContext): void {
  const { io, setExit } = ctx;

  program
    .command('export')
    .description('write readings as CSV (default), JSON or NDJSON to stdout or --out, from the database (-d; read-only, fine beside a running listener) or from a database archive (.gz); sorted by sensor, then time')
    .argument('[source]', 'database or gzipped archive to read (default: the -d database)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json', 'ndjson']).default('csv'))
    .option('-o, --out <file>', 'write to this file (written completely, then renamed into place) instead of stdout')
    .option('--sensor <name>', 'only this sensor; repeatable', collect)
    .option('--from <time>', 'readings at or after this time: ISO 8601 (UTC unless it names a zone), or a duration ago like 24h, 7d', timeOption('--from'))
    .option('--to <time>', 'readings before this time: ISO 8601 or a duration ago', timeOption('--to'))
    .option('--with-archives', 'also the database archives next to the database (those that meet --from/--to), oldest first, then the database')
    .action(async (source: string | undefined, opts: { format: 'csv' | 'json' | 'ndjson'; out?: string; sensor?: string[]; from?: string; to?: string; withArchives?: boolean }, cmd: Command) => {
      const { exportReadings, sourcesWithArchives } = await import('./export.js');
      const file = source ?? dbOf(cmd, 'export');
      const result = await exportReadings({
        sources: opts.withArchives ? sourcesWithArchives(file, opts.from, opts.to) : [file],
        format: opts.format,
        sensors: opts.sensor ?? [],
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
        ...(opts.out !== undefined ? { out: opts.out } : {}),
      });
      if (opts.out !== undefined) io.out(`exported ${result.rows} reading(s) to ${opts.out}`);
      setExit(0);
    });

  program
    .command('import')
    .description('merge readings from an original listener database, a database archive (.gz) or a CSV from export into the -d database, skipping what is already there; exit 0, 1 if some CSV rows could not be imported, 2 if the file cannot be read')
    .argument('<file>', 'database, gzipped archive or CSV file')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { formatImportResult, importFile } = await import('./import.js');
      const dbFile = dbOf(cmd, 'import');
      const result = await importFile({ file, dbFile, onBadRow: (line, reason) => io.err(`${file} line ${line}: ${reason}; row not imported`) });
      for (const l of formatImportResult(file, dbFile, result)) io.out(l);
      setExit(result.badRows.length > 0 ? 1 : 0);
    });

  program
    .command('support-bundle')
    .description('write one .zip for a bug report: log and its archives, status, check-config (secrets masked), versions, integrity check, last 1000 rejected messages; no credentials')
    .option('-o, --out <file>', 'the .zip to write (default: mqtt-iot-listener-support-<host>-<UTC time>.zip here)')
    .action(async (opts: { out?: string }, cmd: Command) => {
      const { writeSupportBundle } = await import('./support-bundle.js');
      const warnings: string[] = [];
      let config: Config | { error: string };
      try {
        config = ctx.configFromCommand(cmd, warnings);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        config = { error: errorText(err) };
      }
      const raw = ctx.rawOptions(cmd);
      const host = hostname().replace(/[^A-Za-z0-9_-]/g, '') || 'host';
      const result = await writeSupportBundle({
        config,
        warnings,
        dbFile: raw.dbFile ?? DEFAULTS.dbFile,
        logFile: raw.logFile ?? DEFAULTS.logFile,
        ...(raw.mqttDebugLog !== undefined ? { mqttDebugLog: raw.mqttDebugLog } : {}),
        credentialsFiles: [raw.credentialsFile ?? DEFAULTS.credentialsFile, raw.gmailCredentialsFile ?? DEFAULTS.gmailCredentialsFile],
        out: opts.out ?? `mqtt-iot-listener-support-${host}-${stamp(Date.now())}.zip`,
      });
      io.out(`wrote ${result.file} (${result.bytes} bytes, ${result.entries.length} entries); no credentials in it, secrets masked`);
      setExit(0);
    });
}
