// The command line (commander): every flag of the original, with its legacy spellings, plus ours.
// Flags are typed here (numbers are numbers), then resolveConfig() validates the whole once.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MAPPING_HELP, TOPIC_HELP } from './decoders/decoding-config.js';
import { addSensorAlertOptions, sensorAlertFlags } from './alerts/sensor-alert-options.js';
import { ConfigError, DEFAULTS, describeConfig, isPostgresUrl, resolveConfig, type Config, type LogLevel, type RawOptions } from './config.js';
import { addHttpOptions, parseStale, resolveHttpConfig, type HttpFlags } from './http/http-options.js';
import type { RotationSchedule } from './logging/log-rotator.js';
import { addBrokerAccessOptions, brokerAccessFlags } from './mqtt/broker-access-flags.js';
import { parseDecimal, parseDuration } from './numbers.js';
import { addRecoveryOptions, resolveRecoveryConfig, type RecoveryFlags } from './recovery/options.js';
import { formatStatus, readStatus } from './status.js';
import { addDataToolCommands } from './tools/commands.js';
import { endQuietlyOnClosedPipe, writeIfOpen } from './tools/closed-pipe.js';
import { VERSION_LINE } from './version.js';

/** The original's spellings (Python argparse) rewritten to ours before commander sees them. */
export const LEGACY_ALIASES: Readonly<Record<string, string>> = {
  '-log': '--log-file',
  '--log_file_path': '--log-file',
  '-db': '--db',
  '--database_file_path': '--db',
  '--credentials_file_path': '--credentials',
  '--mqtt_broker': '--broker',
  '--timer_check': '--timer-check',
  '--gmail_credentials_file_path': '--gmail-credentials',
  '--last_notice_file_path': '--last-notice-file',
  '--last_notice_silence_time': '--silence',
  '--max_log_archives': '--max-log-archives',
  '--archive_log_size': '--archive-log-size',
  '-ver': '--version',
};

export function rewriteLegacyArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let passThrough = false;
  for (const arg of args) {
    if (passThrough || arg === '--') {
      passThrough = true;
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const alias = LEGACY_ALIASES[name];
    out.push(alias ? (eq > 0 ? `${alias}${arg.slice(eq)}` : alias) : arg);
  }
  return out;
}

function numberParser(flag: string, what: string, check: (n: number) => boolean) {
  return (value: string): number => {
    const n = parseDecimal(value);
    if (n === undefined || !check(n)) throw new InvalidArgumentError(`${flag} must be ${what}, got ${JSON.stringify(value)}`);
    return n;
  };
}

const positive = (flag: string, unit: string) => numberParser(flag, `a number of ${unit} greater than 0`, (n) => n > 0);
const wholePositive = (flag: string, unit: string) =>
  numberParser(flag, `a whole number of ${unit} greater than 0`, (n) => n > 0 && Number.isInteger(n));

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  normal stop (SIGINT/SIGTERM)
  1  internal error (a bug: please report it with the log), or a stop forced by
     a second signal or the 5 s stop deadline
  2  bad configuration (flag, config or credentials file); never a broker or mail
     server that is down or whose name does not resolve (yet): those are retried
  3  unrecoverable runtime error (e.g. the broker refused the credentials)
  4  another instance is already running on the same database (<db>.lock)

Signals: SIGTERM/SIGINT (Ctrl+C) stop gracefully within 5 s (a second one forces the exit);
SIGHUP reopens the log file and re-reads the credentials files (-c, -m) and --alert-rules.
status exits 0, or 1 when --stale is given and a sensor is older, or 2 if the database cannot be read.`;

/** Adds every listener flag to a command. Long kebab-case names; legacy ones are aliases. */
function addListenerOptions(cmd: Command): Command {
  const d = DEFAULTS;
  const withListener = cmd
    .option('-l, --log-file <path>', `log file (also -log, --log_file_path) (default: ${d.logFile})`)
    .option('-d, --db <path>', `SQLite database file, or postgres://user:password@host:5432/db (also -db, --database_file_path) (default: ${d.dbFile})`)
    .option('--share-group <name>', 'subscribe as one member of the MQTT shared subscription $share/<name>/<filter> (several listeners split one stream; needs -d postgres://…)')
    .option('-c, --credentials <path>', `MQTT credentials file, one line "username,password" (also --credentials_file_path) (default: ${d.credentialsFile})`)
    .option('-b, --broker <host>', `MQTT broker host name or address (also --mqtt_broker) (default: ${d.broker})`)
    .option('--port <port>', `MQTT broker port (default: ${d.port}; 8883 is usual with --tls)`, numberParser('--port', 'a port number 1-65535', (n) => Number.isInteger(n) && n >= 0 && n <= 65535))
    .option('-t, --timer-check <minutes>', `watchdog period: restart the MQTT side if no message arrived in it (also --timer_check; decimals allowed) (default: ${d.timerCheckMinutes})`, positive('--timer-check', 'minutes'))
    .option('-m, --gmail-credentials <path>', `mail credentials file "from,app_password,local_host_or_None,to" (also --gmail_credentials_file_path) (default: ${d.gmailCredentialsFile})`)
    .option('-n, --last-notice-file <path>', `when the last alert was sent (also --last_notice_file_path) (default: ${d.lastNoticeFile})`)
    .option('-s, --silence <minutes>', `mute period after an alert (also --last_notice_silence_time) (default: ${d.silenceMinutes})`, numberParser('--silence', 'a number of minutes, 0 or more', (n) => n >= 0))
    .option('-a, --max-log-archives <n>', `gzipped log archives kept (also --max_log_archives) (default: ${d.maxLogArchives})`, wholePositive('--max-log-archives', 'archives'))
    .option('-z, --archive-log-size <bytes>', `log size that triggers rotation, e.g. 1e6 (also --archive_log_size) (default: ${d.archiveLogSize})`, wholePositive('--archive-log-size', 'bytes'))
    .option('--db-archive-size <bytes>', `database size that triggers an archive (default: ${d.dbArchiveSize})`, wholePositive('--db-archive-size', 'bytes'))
    .addOption(new Option('--log-rotate <schedule>', `rotate the log by size only (-z), or also every UTC day/hour (default: ${d.logRotate})`).choices(['size', 'daily', 'hourly']))
    .option('--mqtt-debug-log <file>', "write the MQTT library's own debug output to this file (rotated like the log)")
    .option('--topic <filter>', `${TOPIC_HELP} (default: ${d.topics.join(', ')})`, collect)
    .option('--mapping <file>', MAPPING_HELP)
    .addOption(new Option('--qos <level>', `subscription QoS (default: ${d.qos})`).choices(['0', '1', '2']))
    .option('--client-id <id>', 'MQTT client id (default: stable per host and database, e.g. mqtt-iot-listener-<hostname>)')
    .option('--clean-session', 'start a clean session on every connect (default: persistent session, so readings queued while down are delivered)')
    .option('--tls', 'connect with TLS (mqtts)')
    .option('--ca-file <path>', 'CA certificate (PEM) for --tls')
    .option('--insecure', 'with --tls: do not verify the broker certificate (testing only)')
    .option('--keepalive <seconds>', `MQTT keepalive (default: ${d.keepaliveSeconds})`, wholePositive('--keepalive', 'seconds'))
    .addOption(new Option('--log-level <level>', `log level (default: ${d.logLevel}, as the original; info is recommended)`).choices(['error', 'warn', 'info', 'debug']))
    .option('--console', 'mirror every log line to stdout even when it is not a terminal (under systemd: journalctl shows them)')
    .option('--no-console', 'do not mirror the log to the console (errors still go to stderr)')
    .option('--embedded-broker', 'run an MQTT broker (aedes) in this process on --port')
    .option('--embedded-broker-host <address>', `address the embedded broker binds to (default: ${d.embeddedBrokerHost})`)
    .option('--durable', 'synchronous=FULL: every commit survives power loss (default NORMAL survives a killed process)')
    .option('--accept-retained', 'store retained messages too (default: skipped, they would be stored again at every restart)')
    .option('--retry-auth-failures', 'keep retrying when the broker refuses the credentials (default: exit with code 3)')
    .option('--smtp-host <host>', `mail server for alerts (default: ${d.smtpHost})`)
    .option('--smtp-port <port>', `mail server port (default: ${d.smtpPort}, or ${d.smtpStartTlsPort} with --no-smtp-secure)`, numberParser('--smtp-port', 'a port number 1-65535', (n) => Number.isInteger(n) && n >= 1 && n <= 65535))
    .option('--smtp-secure', 'TLS to the mail server from the first byte (the default, as Gmail on 465)')
    .option('--no-smtp-secure', 'plain connection to the mail server, upgraded with STARTTLS when the server offers it')
    .option('--smtp-insecure', 'do not verify the mail server certificate (self-signed test servers only)');
  return addBrokerAccessOptions(addHttpOptions(withListener));
}

type CommanderOpts = Record<string, unknown>;

function explicitKeys(cmd: Command): Set<string> {
  const map: Record<string, keyof RawOptions> = {
    logFile: 'logFile',
    db: 'dbFile',
    credentials: 'credentialsFile',
    gmailCredentials: 'gmailCredentialsFile',
  };
  const out = new Set<string>();
  for (const [opt, key] of Object.entries(map)) {
    const src = cmd.getOptionValueSource(opt) ?? cmd.parent?.getOptionValueSource(opt);
    if (src === 'cli' || src === 'env') out.add(key);
  }
  return out;
}

export function toRawOptions(o: CommanderOpts): RawOptions {
  const raw: RawOptions = {};
  const set = <K extends keyof RawOptions>(key: K, value: unknown): void => {
    if (value !== undefined) raw[key] = value as RawOptions[K];
  };
  set('logFile', o['logFile']);
  set('dbFile', o['db']);
  set('credentialsFile', o['credentials']);
  set('broker', o['broker']);
  set('port', o['port']);
  set('timerCheckMinutes', o['timerCheck']);
  set('gmailCredentialsFile', o['gmailCredentials']);
  set('lastNoticeFile', o['lastNoticeFile']);
  set('silenceMinutes', o['silence']);
  set('maxLogArchives', o['maxLogArchives']);
  set('archiveLogSize', o['archiveLogSize']);
  set('dbArchiveSize', o['dbArchiveSize']);
  set('logRotate', o['logRotate'] as RotationSchedule | undefined);
  set('mqttDebugLog', o['mqttDebugLog']);
  set('topics', o['topic']);
  set('mappingFile', o['mapping']);
  set('qos', o['qos'] !== undefined ? (Number(o['qos']) as 0 | 1 | 2) : undefined);
  set('clientId', o['clientId']);
  set('cleanSession', o['cleanSession']);
  set('tls', o['tls']);
  set('caFile', o['caFile']);
  set('insecure', o['insecure']);
  set('keepaliveSeconds', o['keepalive']);
  set('logLevel', o['logLevel'] as LogLevel | undefined);
  set('console', typeof o['console'] === 'boolean' ? o['console'] : process.stdout.isTTY === true);
  set('embeddedBroker', o['embeddedBroker']);
  set('embeddedBrokerHost', o['embeddedBrokerHost']);
  set('durable', o['durable']);
  set('acceptRetained', o['acceptRetained']);
  set('retryAuthFailures', o['retryAuthFailures']);
  set('smtpHost', o['smtpHost']);
  set('smtpPort', o['smtpPort']);
  set('smtpSecure', o['smtpSecure']);
  set('smtpInsecure', o['smtpInsecure']);
  set('shareGroup', o['shareGroup']);
  set('brokerAccess', brokerAccessFlags(o));
  set('sensorAlerts', sensorAlertFlags(o));
  return raw;
}

export function configFromCommand(cmd: Command, warnings: string[] = []): Config {
  const opts = cmd.optsWithGlobals();
  const config = Object.assign(resolveConfig(toRawOptions(opts), { explicit: explicitKeys(cmd), warnings }), resolveHttpConfig(opts as HttpFlags, warnings));
  config.recovery = resolveRecoveryConfig(opts as RecoveryFlags, config.clientId, config.postgresUrl !== undefined);
  return config;
}

export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIO: CliIO = {
  out: (l) => writeIfOpen(process.stdout, `${l}\n`),
  err: (l) => writeIfOpen(process.stderr, `${l}\n`),
};

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('mqtt-iot-listener');
  program
    .description('Listens to an MQTT broker, decodes temperature/humidity readings and stores them in SQLite.')
    .version(VERSION_LINE, '-v, --version', 'print name, version and release date (also -ver)')
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // One line per error, suggestion included: scheduled tasks and scripts show the first line.
      outputError: (s, write) => write(s.trim().replace(/\s*\n\s*/g, ' ')),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP);
  addListenerOptions(program);
  addRecoveryOptions(program);
  addSensorAlertOptions(program);

  const runListener = async (cmd: Command): Promise<void> => {
    const warnings: string[] = [];
    const config = configFromCommand(cmd, warnings);
    const { runUntilStopped } = await import('./run.js');
    setExit(await runUntilStopped(config, warnings));
  };
  program.action(async (_opts, cmd: Command) => runListener(cmd));
  program
    .command('run', { isDefault: false })
    .description('run the listener (the default when no command is given)')
    .action(async (_opts, cmd: Command) => runListener(cmd));

  program
    .command('check-config')
    .description('validate flags and files, print the effective configuration (secrets masked); exit 0 or 2')
    .action(async (_opts, cmd: Command) => {
      const warnings: string[] = [];
      const config = configFromCommand(cmd, warnings);
      await (await import('./host-check.js')).checkHostsResolve(config);
      for (const w of warnings) io.err(`warning: ${w}`);
      io.out(JSON.stringify(describeConfig(config), null, 2));
      setExit(0);
    });

  const archive = program.command('archive').description('database archives (gzipped, next to the database)');
  archive
    .command('list')
    .description('list the archives next to the database (-d), with their time ranges (UTC) and sizes')
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as CommanderOpts;
      const dbFile = typeof o['db'] === 'string' ? o['db'] : DEFAULTS.dbFile;
      const { listArchives } = await import('./store/database-archiver.js');
      const entries = listArchives(dbFile);
      if (entries.length === 0) {
        io.out(`no archives next to ${dbFile}`);
      } else {
        io.out('first reading (UTC)  last reading (UTC)         bytes  file');
        for (const e of entries) {
          const note = e.compressed ? '' : '  (not compressed: made by the original listener)';
          io.out(`${e.first}     ${e.last}     ${String(e.bytes).padStart(12)}  ${e.file}${note}`);
        }
      }
      setExit(0);
    });

  program
    .command('alert-test')
    .description("send one test alert mail with the mail settings (-m, --smtp-*) and print the server's answer; exit 0 sent, 2 no/bad credentials file, 3 not sent")
    .action(async (_opts, cmd: Command) => {
      const warnings: string[] = [];
      const config = configFromCommand(cmd, warnings);
      for (const w of warnings) io.err(`warning: ${w}`);
      const { sendTestAlert } = await import('./alerts/alert-test.js');
      setExit(await sendTestAlert(config, io));
    });

  program
    .command('status')
    .description('per sensor the last reading, its values and age, plus totals; reads the database only (no broker needed)')
    .option('--json', 'print JSON, for scripts')
    .option('--stale <duration>', 'exit 1 if a sensor has no reading newer than this, e.g. 30m, 2h, 90s (a bare number is minutes)', parseStale)
    .action((opts: { json?: boolean; stale?: number }, cmd: Command) => {
      const dbFile = (cmd.optsWithGlobals()['db'] as string | undefined) ?? DEFAULTS.dbFile;
      const stale = opts.stale ?? (cmd.optsWithGlobals()['stale'] as number | undefined); // the program's --stale takes it
      const status = readStatus(dbFile, stale !== undefined ? { staleAfterMs: stale } : {});
      if (opts.json) io.out(JSON.stringify(status, null, 2));
      else for (const line of formatStatus(status)) io.out(line);
      setExit(status.stale ? 1 : 0);
    });

  program
    .command('hash-password [user]')
    .description('print a "user:$scrypt$…" line for --embedded-broker-users; the password is read from standard input or a prompt, never from the command line')
    .action(async (user: string | undefined) => {
      const { hashPasswordCommand } = await import('./mqtt/hash-password-command.js');
      setExit(await hashPasswordCommand(user, io));
    });

  program
    .command('alerts')
    .description('sensor alerts: current problems, mutes and when they end, mails waiting; reads the state file next to -n (no listener needed); exit 0, or 1 when a sensor has a problem')
    .option('--json', 'print JSON, for scripts')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { printAlerts } = await import('./alerts/alerts-command.js');
      setExit(printAlerts((cmd.optsWithGlobals()['lastNoticeFile'] as string | undefined) ?? DEFAULTS.lastNoticeFile, opts.json === true, io));
    });

  program
    .command('migrate')
    .description('copy readings, sensor rows and rejected messages from an SQLite database or gzipped archive into PostgreSQL, skipping what is there (run it again: it adds nothing)')
    .requiredOption('--from <file>', 'SQLite database (ours or the original\'s) or one of our .gz archives')
    .requiredOption('--to <url>', 'postgres://user:password@host:5432/database (password also from PGPASSWORD or ~/.pgpass)')
    .action(async (opts: { from: string; to: string }) => {
      if (!isPostgresUrl(opts.to)) throw new ConfigError('migrate --to must be a postgres:// URL');
      const { migrate } = await import('./store/postgres/migrate.js');
      const r = await migrate({ from: opts.from, to: opts.to, out: io.out, tty: process.stderr.isTTY === true });
      io.out(`migrated: readings ${r.readings.added} added, ${r.readings.skipped} skipped; sensor rows ${r.sensors.added} added, ${r.sensors.skipped} skipped; rejected messages ${r.rejected.added} added, ${r.rejected.skipped} skipped`);
      setExit(0);
    });

  program
    .command('simulate')
    .description('publish realistic readings from N fake sensors (original payload format) to the broker')
    .option('--sensors <n>', 'number of fake sensors', wholePositive('--sensors', 'sensors'), 5)
    .option('--interval <duration>', 'time between rounds, e.g. 2s, 500ms, 0 (as fast as possible)', (v: string) => {
      const ms = parseDuration(v, 's');
      if (ms === undefined || ms < 0) throw new InvalidArgumentError(`--interval must be a duration like 2s or 500ms, got ${JSON.stringify(v)}`);
      return ms;
    })
    .option('--count <n>', 'stop after this many messages (default: run until Ctrl+C)', wholePositive('--count', 'messages'))
    .option('--prefix <name>', 'sensor name prefix', 'SIMTH')
    .action(async (opts: { sensors: number; interval?: number; count?: number; prefix: string }, cmd: Command) => {
      const config = configFromCommand(cmd);
      const { simulate } = await import('./simulate.js');
      const result = await simulate(config, {
        sensors: opts.sensors,
        intervalMs: opts.interval ?? 2000,
        ...(opts.count !== undefined ? { count: opts.count } : {}),
        prefix: opts.prefix,
        out: io.out,
      });
      io.out(`published ${result.published} message(s) in ${(result.elapsedMs / 1000).toFixed(1)} s`);
      setExit(0);
    });
  addDataToolCommands(program, { io, setExit, configFromCommand, rawOptions: (cmd) => toRawOptions(cmd.optsWithGlobals()) });
  return program;
}

/** Entry point used by bin/: returns the process exit code. */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  let exitCode = 0;
  if (io === defaultIO) {
    // `… | head`: output into a closed pipe ends quietly (see tools/closed-pipe.ts).
    endQuietlyOnClosedPipe(process.stdout);
    endQuietlyOnClosedPipe(process.stderr);
  }
  const program = buildProgram(io, (c) => {
    exitCode = c;
  });
  try {
    await program.parseAsync(rewriteLegacyArgs(argv.slice(2)), { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2; // commander already printed the one-line reason
    }
    if (err instanceof ConfigError) {
      io.err(`error: ${err.message}`);
      return err.exitCode;
    }
    const e = err as Error & { exitCode?: number };
    if (typeof e.exitCode === 'number') {
      io.err(`error: ${e.message}`);
      return e.exitCode;
    }
    throw err;
  }
}
