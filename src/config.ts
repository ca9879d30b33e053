// The typed configuration: defaults (the original's), validation and credentials files, done once
// at start-up. Every user-caused problem is a ConfigError: one line, exit code 2.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RotationSchedule } from './logging/log-rotator.js';
import type { Logger } from './logging/types.js';
import { parseMailCredentials, type MailCredentials } from './alerts/mail-account.js';
import { resolveDecoding, type DecodingConfig } from './decoders/decoding-config.js';
import { describeSensorAlerts, resolveSensorAlerts, type SensorAlertConfig, type SensorAlertFlags } from './alerts/sensor-alert-options.js';
import type { RecoveryConfig } from './recovery/options.js';
import type { HttpConfig } from './http/http-options.js';
import { describeBrokerAccess, resolveBrokerAccess, type BrokerAccessConfig, type BrokerAccessFlags } from './mqtt/broker-access-flags.js';

export class ConfigError extends Error {
  readonly exitCode = 2;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const DEFAULTS = {
  logFile: 'ECCMQTTIoT.log',
  dbFile: 'ECCTempHum.sqlite3',
  credentialsFile: 'ECCMQTTIoT_Credentials.txt',
  broker: '127.0.0.1',
  port: 1883,
  timerCheckMinutes: 20,
  gmailCredentialsFile: 'ECCMQTTIoT_GMail_Credentials.txt',
  lastNoticeFile: 'ECCMQTTIoT_Last_Notice.dat',
  silenceMinutes: 1440,
  maxLogArchives: 9,
  archiveLogSize: 1073741824,
  dbArchiveSize: 1073741824,
  logRotate: 'size' as RotationSchedule,
  topics: ['ECCTempHum'],
  qos: 1 as 0 | 1 | 2,
  logLevel: 'debug' as LogLevel,
  keepaliveSeconds: 60,
  embeddedBrokerHost: '127.0.0.1',
  smtpHost: 'smtp.gmail.com',
  /** SMTP over TLS (Gmail's); 587 is used with --no-smtp-secure (STARTTLS). */
  smtpPort: 465,
  smtpStartTlsPort: 587,
} as const;

export interface MqttCredentials {
  username?: string;
  password?: string;
  /** Where they came from, for the log (never the values). */
  source: 'file' | 'env' | 'file+env' | 'none';
}

export interface Config {
  logFile: string;
  dbFile: string;
  credentialsFile: string;
  credentialsExplicit: boolean;
  broker: string;
  port: number;
  timerCheckMinutes: number;
  gmailCredentialsFile: string;
  gmailCredentialsExplicit: boolean;
  lastNoticeFile: string;
  silenceMinutes: number;
  maxLogArchives: number;
  archiveLogSize: number;
  dbArchiveSize: number;
  /** --log-rotate: by size only (the original's scheme), or also at each UTC day/hour. */
  logRotate: RotationSchedule;
  /** --mqtt-debug-log: MQTT.js's own debug output goes to this file (rotated like the log). */
  mqttDebugLog?: string;
  /** Filters to subscribe to (without their =format). */
  topics: string[];
  /** How each topic's payloads are decoded (--topic =format, --mapping). */
  decoding: DecodingConfig;
  qos: 0 | 1 | 2;
  clientId: string;
  cleanSession: boolean;
  tls: boolean;
  caFile?: string;
  insecure: boolean;
  logLevel: LogLevel;
  console: boolean;
  embeddedBroker: boolean;
  embeddedBrokerHost: string;
  durable: boolean;
  acceptRetained: boolean;
  retryAuthFailures: boolean;
  keepaliveSeconds: number;
  mqtt: MqttCredentials;
  smtpHost: string;
  smtpPort: number;
  /** TLS from the first byte (port 465); false = plain connection, upgraded with STARTTLS when offered. */
  smtpSecure: boolean;
  /** Do not verify the mail server's certificate (self-signed test servers only). */
  smtpInsecure: boolean;
  /** Mail alert credentials; undefined = alerts are logged only. */
  mail?: MailCredentials;
  /** -d postgres://…: readings go to PostgreSQL instead of the SQLite file. */
  postgresUrl?: string;
  /** --share-group: subscribe as one member of an MQTT shared subscription ($share/<group>/<filter>). */
  shareGroup?: string;
  /** Outage recovery flags (src/recovery/options.ts); undefined = outage log only. */
  recovery?: RecoveryConfig;
  /** --http: the status service (resolved by src/http/http-options.ts); undefined = off. */
  http?: HttpConfig;
  /** --availability-topic filters (device online/offline, Last Will). */
  availabilityTopics?: string[];
  /** Per-sensor alerts (silence, battery, rules); undefined = none asked for. */
  sensorAlerts?: SensorAlertConfig;
  /** The embedded broker's users, ACL and limits (src/mqtt/broker-access-flags.ts). */
  brokerAccess: BrokerAccessConfig;
}

/** What the command line hands over (already typed by the flag parsers). */
export type RawOptions = Partial<Omit<Config, 'mqtt' | 'credentialsExplicit' | 'gmailCredentialsExplicit' | 'clientId' | 'mail' | 'postgresUrl' | 'recovery' | 'decoding' | 'sensorAlerts' | 'brokerAccess'>> & {
  clientId?: string;
  mappingFile?: string;
  sensorAlerts?: SensorAlertFlags;
  brokerAccess?: BrokerAccessFlags;
};

export interface ResolveContext {
  /** Flags the user gave explicitly (not defaults). */
  explicit: ReadonlySet<string>;
  env?: NodeJS.ProcessEnv;
  /** Warnings found while reading files (e.g. credentials readable by others). */
  warnings?: string[];
}

/** The text of a file the user named; unreadable = ConfigError "cannot read <what> <path>: …". */
export function readConfigText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`);
  }
}

/** Lines of a credentials file without blanks and `#` comments, each trimmed. */
export function credentialLines(path: string): string[] {
  return readConfigText(path, 'credentials file')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Warns when a secrets file can be read by group or others (POSIX only). */
export function permissionWarning(path: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    const mode = statSync(path).mode;
    if (mode & 0o077) {
      return `credentials file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`;
    }
  } catch {
    /* unreadable files are reported by the reader */
  }
  return undefined;
}

export function readMqttCredentials(
  path: string,
  explicit: boolean,
  env: NodeJS.ProcessEnv = process.env,
  warnings: string[] = [],
): MqttCredentials {
  let username: string | undefined;
  let password: string | undefined;
  let fromFile = false;
  if (existsSync(path)) {
    const lines = credentialLines(path);
    if (lines.length === 0) throw new ConfigError(`credentials file ${path} is empty: expected one line "username,password"`);
    const line = lines[0]!;
    const comma = line.indexOf(',');
    if (comma < 0) throw new ConfigError(`credentials file ${path}: expected "username,password" on one line (no comma found)`);
    username = line.slice(0, comma).trim();
    password = line.slice(comma + 1).trim();
    if (username === '') throw new ConfigError(`credentials file ${path}: the username before the comma is empty`);
    fromFile = true;
    const w = permissionWarning(path);
    if (w) warnings.push(w);
  } else if (explicit) {
    throw new ConfigError(`credentials file ${path} does not exist (named by --credentials); create it or leave the flag out for an anonymous connection`);
  }
  const envUser = env['MQTT_USERNAME'];
  const envPass = env['MQTT_PASSWORD'];
  const fromEnv = (envUser !== undefined && envUser !== '') || (envPass !== undefined && envPass !== '');
  if (envUser !== undefined && envUser !== '') username = envUser;
  if (envPass !== undefined && envPass !== '') password = envPass;
  const source = fromFile && fromEnv ? 'file+env' : fromFile ? 'file' : fromEnv ? 'env' : 'none';
  const creds: MqttCredentials = { source };
  if (username !== undefined) creds.username = username;
  if (password !== undefined) creds.password = password;
  return creds;
}

/**
 * Mail alert credentials (-m). A missing file means "alerts are logged only" — with a warning when
 * the user named it: mail is a side job, and a listener that stores readings must not refuse to
 * start over it (the original only read this file when it had an alert to send). A malformed
 * line is a mistake to fix now, not at 3 a.m. when the first alert fails: ConfigError.
 */
export function readMailCredentials(path: string, explicit: boolean, warnings: string[] = []): MailCredentials | undefined {
  if (!existsSync(path)) {
    if (explicit) warnings.push(`mail credentials file ${path} (named by -m) does not exist: alerts will only be logged`);
    return undefined;
  }
  const lines = credentialLines(path);
  if (lines.length === 0) throw new ConfigError(`mail credentials file ${path} is empty: expected one line "from_address,app_password,local_host_name_or_None,to_address"`);
  const parsed = parseMailCredentials(lines[0]!);
  if (!parsed.ok) throw new ConfigError(`mail credentials file ${path}: ${parsed.reason}`);
  const w = permissionWarning(path);
  if (w) warnings.push(w);
  return parsed.value;
}

/** A client id that stays the same across restarts of this listener on this host and database. */
export function defaultClientId(dbFile: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || 'host';
  const base = dbFile.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '');
  return base && base !== 'ECCTempHum' ? `mqtt-iot-listener-${host}-${base}` : `mqtt-iot-listener-${host}`;
}

export function resolveConfig(raw: RawOptions, ctx: ResolveContext): Config {
  const env = ctx.env ?? process.env;
  const dbFile = raw.dbFile ?? DEFAULTS.dbFile;
  const credentialsFile = raw.credentialsFile ?? DEFAULTS.credentialsFile;
  const { topics, decoding } = resolveDecoding(raw.topics && raw.topics.length > 0 ? raw.topics : [...DEFAULTS.topics], raw.mappingFile);
  if (raw.caFile !== undefined && !existsSync(raw.caFile)) throw new ConfigError(`--ca-file ${raw.caFile} does not exist`);
  const broker = (raw.broker ?? DEFAULTS.broker).trim();
  if (broker === '') throw new ConfigError('--broker is empty: give a host name or address');
  const mqtt = readMqttCredentials(credentialsFile, ctx.explicit.has('credentialsFile'), env, ctx.warnings);
  const embeddedBroker = raw.embeddedBroker ?? false;
  const embeddedBrokerHost = raw.embeddedBrokerHost ?? DEFAULTS.embeddedBrokerHost;
  const config: Config = {
    logFile: raw.logFile ?? DEFAULTS.logFile,
    dbFile,
    credentialsFile,
    credentialsExplicit: ctx.explicit.has('credentialsFile'),
    broker,
    port: raw.port ?? DEFAULTS.port,
    timerCheckMinutes: raw.timerCheckMinutes ?? DEFAULTS.timerCheckMinutes,
    gmailCredentialsFile: raw.gmailCredentialsFile ?? DEFAULTS.gmailCredentialsFile,
    gmailCredentialsExplicit: ctx.explicit.has('gmailCredentialsFile'),
    lastNoticeFile: raw.lastNoticeFile ?? DEFAULTS.lastNoticeFile,
    silenceMinutes: raw.silenceMinutes ?? DEFAULTS.silenceMinutes,
    maxLogArchives: raw.maxLogArchives ?? DEFAULTS.maxLogArchives,
    archiveLogSize: raw.archiveLogSize ?? DEFAULTS.archiveLogSize,
    dbArchiveSize: raw.dbArchiveSize ?? DEFAULTS.dbArchiveSize,
    logRotate: raw.logRotate ?? DEFAULTS.logRotate,
    topics,
    decoding,
    qos: raw.qos ?? DEFAULTS.qos,
    clientId: raw.clientId ?? defaultClientId(dbFile),
    cleanSession: raw.cleanSession ?? false,
    tls: raw.tls ?? false,
    insecure: raw.insecure ?? false,
    logLevel: raw.logLevel ?? DEFAULTS.logLevel,
    console: raw.console ?? true,
    embeddedBroker,
    embeddedBrokerHost,
    durable: raw.durable ?? false,
    acceptRetained: raw.acceptRetained ?? false,
    retryAuthFailures: raw.retryAuthFailures ?? false,
    keepaliveSeconds: raw.keepaliveSeconds ?? DEFAULTS.keepaliveSeconds,
    mqtt,
    smtpHost: (raw.smtpHost ?? DEFAULTS.smtpHost).trim(),
    smtpSecure: raw.smtpSecure ?? true,
    smtpPort: raw.smtpPort ?? (raw.smtpSecure === false ? DEFAULTS.smtpStartTlsPort : DEFAULTS.smtpPort),
    smtpInsecure: raw.smtpInsecure ?? false,
    brokerAccess: resolveBrokerAccess(raw.brokerAccess ?? {}, { embeddedBroker, host: embeddedBrokerHost, listenerUser: mqtt.username, warnings: ctx.warnings ?? [] }),
  };
  if (config.smtpHost === '') throw new ConfigError('--smtp-host is empty: give the mail server host name');
  const mail = readMailCredentials(config.gmailCredentialsFile, config.gmailCredentialsExplicit, ctx.warnings);
  if (mail) config.mail = mail;
  const sensorAlerts = resolveSensorAlerts(raw.sensorAlerts, config.lastNoticeFile);
  if (sensorAlerts) config.sensorAlerts = sensorAlerts;
  if (raw.caFile !== undefined) config.caFile = raw.caFile;
  if (raw.mqttDebugLog !== undefined) {
    if (raw.mqttDebugLog.trim() === '') throw new ConfigError('--mqtt-debug-log is empty: give a file name');
    if (raw.mqttDebugLog === config.logFile) throw new ConfigError('--mqtt-debug-log must be a different file from the log file');
    config.mqttDebugLog = raw.mqttDebugLog;
  }
  if (config.clientId.trim() === '') throw new ConfigError('--client-id is empty');
  if (isPostgresUrl(dbFile)) config.postgresUrl = checkPostgresUrl(dbFile);
  if (raw.shareGroup !== undefined) config.shareGroup = checkShareGroup(raw.shareGroup, config);
  return config;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

function checkPostgresUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('--db: not a valid postgres:// URL (postgres://user:password@host:5432/database)');
  }
  if (u.hostname === '') throw new ConfigError('--db: the postgres:// URL names no host (postgres://user:password@host:5432/database)');
  if (u.pathname === '' || u.pathname === '/') throw new ConfigError('--db: the postgres:// URL names no database (postgres://user:password@host:5432/database)');
  return url;
}

/** A share group name: one topic level, no wildcards (MQTT 5 §4.8.2). */
function checkShareGroup(group: string, config: Config): string {
  if (group === '' || /[/+#\0]/.test(group)) throw new ConfigError(`--share-group ${JSON.stringify(group)} must be one topic level without / + or #`);
  if (config.postgresUrl === undefined) {
    throw new ConfigError('--share-group splits one stream over several listeners, which one SQLite file cannot take: use -d postgres://… for all members');
  }
  return group;
}

/** The URL with its password masked, for check-config, logs and the status API. */
export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '********';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The configuration as check-config prints it: secrets masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { mqtt, mail, http, sensorAlerts, brokerAccess, ...rest } = config;
  if (rest.postgresUrl !== undefined) {
    rest.postgresUrl = maskUrlPassword(rest.postgresUrl);
    rest.dbFile = rest.postgresUrl;
  }
  return {
    ...rest,
    brokerAccess: describeBrokerAccess(brokerAccess),
    http: http ? { ...http, auth: http.auth ? { user: http.auth.user, password: '********' } : null } : null,
    mqtt: {
      username: mqtt.username ?? null,
      password: mqtt.password !== undefined ? '********' : null,
      source: mqtt.source,
    },
    mail: mail ? { ...mail, password: '********' } : null,
    sensorAlerts: describeSensorAlerts(sensorAlerts),
  };
}

export function logWarnings(log: Logger, warnings: readonly string[]): void {
  for (const w of warnings) log.warn(w);
}
